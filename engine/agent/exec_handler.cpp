#include <sstream>

#include "core/error.hpp"
#include "engine/agent/builtin_handlers.hpp"
#include "engine/agent/process_job.hpp"

namespace orbitmesh::engine::agent {

namespace {

[[noreturn]] void bad_exec_payload() {
    throw core::error(core::error_kind::invalid_input,
                      "exec: payload must be an argv array, a command line, or {argv, env, cwd, stdin}");
}

std::vector<std::string> argv_from(const core::json& v) {
    std::vector<std::string> argv;
    if (v.is_array()) {
        for (const auto& a : v) {
            if (a.is_object() || a.is_array() || a.is_null()) bad_exec_payload();
            argv.push_back(a.is_string() ? a.get<std::string>() : a.dump());
        }
    } else if (v.is_string()) {
        // A plain command line is split on whitespace; no quoting, no shell.
        std::istringstream words(v.get<std::string>());
        for (std::string w; words >> w;) argv.push_back(w);
    } else {
        bad_exec_payload();
    }
    if (argv.empty()) bad_exec_payload();
    return argv;
}

class exec_handler final : public handler {
public:
    exec_handler(containment_ptr containment, sandbox_ptr sandbox)
        : containment_(std::move(containment)), sandbox_(std::move(sandbox)) {}
    std::string name() const override { return "exec"; }

    void start(const std::shared_ptr<job_context>& ctx) override {
        process_job job;
        job.label = "exec";
        job.search_path = true;
        const auto& p = ctx->payload();
        if (p.is_object()) {
            if (!p.contains("argv")) bad_exec_payload();
            job.argv = argv_from(p["argv"]);
            read_process_options(p, job);
        } else {
            job.argv = argv_from(p);
        }
        start_process_job(ctx, std::move(job), containment_, sandbox_);
    }

private:
    containment_ptr containment_;
    sandbox_ptr sandbox_;
};

}  // namespace

std::shared_ptr<handler> make_exec_handler(containment_ptr containment, sandbox_ptr sandbox) {
    return std::make_shared<exec_handler>(std::move(containment), std::move(sandbox));
}

}  // namespace orbitmesh::engine::agent
