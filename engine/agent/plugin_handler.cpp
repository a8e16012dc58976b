#include "engine/agent/builtin_handlers.hpp"
#include "engine/agent/process_job.hpp"

namespace orbitmesh::engine::agent {

namespace {

class plugin_handler final : public handler {
public:
    plugin_handler(std::string name, std::filesystem::path program, containment_ptr containment)
        : name_(std::move(name)), program_(std::move(program)), containment_(std::move(containment)) {}

    std::string name() const override { return name_; }

    void start(const std::shared_ptr<job_context>& ctx) override {
        process_job job;
        job.label = name_;
        job.argv = {program_.string()};
        job.stdin_data = ctx->payload().dump() + "\n";
        job.json_last_line = true;
        start_process_job(ctx, std::move(job), containment_);
    }

private:
    std::string name_;
    std::filesystem::path program_;
    containment_ptr containment_;
};

}  // namespace

std::shared_ptr<handler> make_plugin_handler(std::string name, std::filesystem::path program,
                                             containment_ptr containment) {
    return std::make_shared<plugin_handler>(std::move(name), std::move(program), std::move(containment));
}

}  // namespace orbitmesh::engine::agent
