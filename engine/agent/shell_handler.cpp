#include "core/error.hpp"
#include "engine/agent/builtin_handlers.hpp"
#include "engine/agent/process_job.hpp"

namespace orbitmesh::engine::agent {

namespace {

class shell_handler final : public handler {
public:
    explicit shell_handler(containment_ptr containment) : containment_(std::move(containment)) {}
    std::string name() const override { return "shell"; }

    void start(const std::shared_ptr<job_context>& ctx) override {
        process_job job;
        job.label = "shell";
        const auto& p = ctx->payload();
        if (p.is_string()) {
            job.argv = {"/bin/sh", "-c", p.get<std::string>()};
        } else if (p.is_object() && p.contains("script") && p["script"].is_string()) {
            job.argv = {"/bin/sh", "-c", p["script"].get<std::string>()};
            read_process_options(p, job);
        } else {
            throw core::error(core::error_kind::invalid_input,
                              "shell: payload must be a script string or {script, env, cwd, stdin}");
        }
        start_process_job(ctx, std::move(job), containment_);
    }

private:
    containment_ptr containment_;
};

}  // namespace

std::shared_ptr<handler> make_shell_handler(containment_ptr containment) {
    return std::make_shared<shell_handler>(std::move(containment));
}

}  // namespace orbitmesh::engine::agent
