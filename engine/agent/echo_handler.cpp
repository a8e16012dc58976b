#include "engine/agent/builtin_handlers.hpp"

namespace orbitmesh::engine::agent {

namespace {

class echo_handler final : public handler {
public:
    std::string name() const override { return "echo"; }

    void start(const std::shared_ptr<job_context>& ctx) override {
        ctx->finish(job_result{job_status::succeeded, 0, ctx->payload(), {}});
    }
};

}  // namespace

std::shared_ptr<handler> make_echo_handler() { return std::make_shared<echo_handler>(); }

}  // namespace orbitmesh::engine::agent
