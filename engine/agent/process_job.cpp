#include "engine/agent/process_job.hpp"

#include <string.h>

#include <system_error>

#include "core/error.hpp"
#include "engine/agent/child_process.hpp"
#include "engine/agent/job_supervisor.hpp"

extern char** environ;

namespace orbitmesh::engine::agent {

namespace {

std::string as_env_value(const core::json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

std::vector<std::string> full_environment(const std::map<std::string, std::string>& job_vars,
                                          const std::map<std::string, std::string>& extra) {
    std::map<std::string, std::string> merged;
    for (char** e = environ; e && *e; ++e) {
        std::string_view kv(*e);
        auto eq = kv.find('=');
        if (eq != std::string_view::npos) merged[std::string(kv.substr(0, eq))] = kv.substr(eq + 1);
    }
    for (const auto& [k, v] : extra) merged[k] = v;
    // The job's identity variables win over anything a payload tries to set.
    for (const auto& [k, v] : job_vars) merged[k] = v;
    std::vector<std::string> out;
    out.reserve(merged.size());
    for (auto& [k, v] : merged) out.push_back(k + "=" + v);
    return out;
}

std::string trim_one_newline(std::string s) {
    if (!s.empty() && s.back() == '\n') s.pop_back();
    return s;
}

/// The output a plugin reports: its last non-empty stdout line when that is JSON.
std::optional<core::json> last_json_line(const std::string& out) {
    auto end = out.find_last_not_of("\r\n");
    if (end == std::string::npos) return std::nullopt;
    auto start = out.rfind('\n', end);
    start = start == std::string::npos ? 0 : start + 1;
    auto parsed = core::json::parse(out.substr(start, end + 1 - start), nullptr, false);
    if (parsed.is_discarded()) return std::nullopt;
    return parsed;
}

job_result to_result(const process_job& job, process_exit&& ex) {
    job_result r;
    if (!ex.spawned) {
        r.status = job_status::failed;
        r.exit_code = ex.spawn_errno == ENOENT ? 127 : 126;
        r.error = ex.spawn_stage == supervisor_report::stage_exec
                      ? job.label + ": cannot run \"" + job.argv.front() + "\""
                      : job.label + ": " + describe_stage(ex.spawn_stage);
        if (ex.spawn_stage == supervisor_report::stage_cwd) r.error += " \"" + job.cwd.string() + "\"";
        r.error += ": " + std::generic_category().message(ex.spawn_errno);
        r.output = nullptr;
        return r;
    }
    if (ex.exit_code < 0) {
        r.status = job_status::failed;
        r.error = job.label + (ex.supervisor_lost ? ": the job's supervisor was killed; its processes were stopped"
                                                  : ": the process ended with an unknown status");
        return r;
    }
    r.exit_code = ex.exit_code;
    r.status = ex.exit_code == 0 ? job_status::succeeded : job_status::failed;
    auto plugin_output = job.json_last_line ? last_json_line(ex.stdout_tail) : std::nullopt;
    r.output =
        plugin_output ? std::move(*plugin_output) : core::json(trim_one_newline(std::move(ex.stdout_tail)));
    if (ex.term_signal != 0) {
        const char* abbrev = sigabbrev_np(ex.term_signal);
        r.error = job.label + ": killed by signal " + std::to_string(ex.term_signal);
        if (abbrev) r.error += std::string(" (SIG") + abbrev + ")";
    } else if (ex.exit_code != 0) {
        r.error = job.label + ": exit status " + std::to_string(ex.exit_code);
    }
    if (!r.error.empty() && !ex.last_stderr_line.empty()) r.error += ": " + ex.last_stderr_line;
    return r;
}

}  // namespace

void read_process_options(const core::json& payload, process_job& job) {
    auto bad = [&](const std::string& what) {
        throw core::error(core::error_kind::invalid_input, job.label + ": payload " + what);
    };
    if (auto it = payload.find("env"); it != payload.end() && !it->is_null()) {
        if (!it->is_object()) bad("key \"env\" must be an object of strings");
        for (const auto& [k, v] : it->items())
            if (!v.is_null()) job.env[k] = as_env_value(v);
    }
    if (auto it = payload.find("cwd"); it != payload.end() && !it->is_null()) {
        if (!it->is_string()) bad("key \"cwd\" must be a string");
        job.cwd = it->get<std::string>();
    }
    if (auto it = payload.find("stdin"); it != payload.end() && !it->is_null())
        job.stdin_data = it->is_string() ? it->get<std::string>() : it->dump();
}

void start_process_job(const std::shared_ptr<job_context>& ctx, process_job job,
                       std::shared_ptr<job_containment> containment) {
    if (job.argv.empty() || job.argv.front().empty())
        throw core::error(core::error_kind::invalid_input, job.label + ": nothing to run");
    std::error_code ec;
    if (!job.cwd.empty() && !std::filesystem::is_directory(job.cwd, ec))
        throw core::error(core::error_kind::invalid_input, job.label + ": working directory \"" +
                                                               job.cwd.string() +
                                                               "\" does not exist or is not a directory");
    const auto& req = ctx->request();
    spawn_plan plan{job.argv,       job.search_path, full_environment(ctx->env(), job.env), job.cwd,
                    job.stdin_data, req.job_id,      req.attempt};
    std::weak_ptr<job_context> weak = ctx;
    auto on_line = [weak](bool is_err, std::string line) {
        if (auto c = weak.lock())
            c->emit_output(is_err ? output_stream::err : output_stream::out, std::move(line));
    };
    auto on_exit = [weak, job = std::move(job)](process_exit ex) {
        if (auto c = weak.lock()) c->finish(to_result(job, std::move(ex)));
    };
    auto child = std::make_shared<child_process>(std::move(plan), std::move(containment), std::move(on_line),
                                                 std::move(on_exit));
    // The context owns the process through its stop handler until the job has finished.
    ctx->set_stop_handler([child](std::int64_t grace_ms) { child->terminate(grace_ms); });
}

}  // namespace orbitmesh::engine::agent
