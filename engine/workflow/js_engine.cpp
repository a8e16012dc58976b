// Node.js as a sandboxed child process: finding it, the flags it gets, reading its answer.
#include "engine/workflow/js_engine.hpp"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "core/duration.hpp"
#include "core/error.hpp"
#include "engine/workflow/js_process.hpp"
#include "engine/workflow/js_program.hpp"

namespace orbitmesh::engine {

namespace {

bool executable(const std::string& p) { return !p.empty() && ::access(p.c_str(), X_OK) == 0; }

std::string in_path(const std::string& name) {
    if (name.find('/') != std::string::npos) return executable(name) ? std::filesystem::absolute(name).string() : "";
    const char* path = std::getenv("PATH");
    std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
    std::size_t start = 0;
    while (start <= dirs.size()) {
        auto colon = dirs.find(':', start);
        if (colon == std::string::npos) colon = dirs.size();
        auto dir = dirs.substr(start, colon - start);
        if (!dir.empty() && executable(dir + "/" + name)) return dir + "/" + name;
        start = colon + 1;
    }
    return "";
}

// node 20-22.12 calls it --experimental-permission, 22.13+ and 23.5+ --permission; older, none.
std::string permission_flag(const std::string& version) {
    int major = 0, minor = 0;
    if (std::sscanf(version.c_str(), "v%d.%d", &major, &minor) != 2 || major < 20) return "";
    if (major >= 24 || (major == 23 && minor >= 5) || (major == 22 && minor >= 13)) return "--permission";
    return "--experimental-permission";
}

std::string first_line(const std::string& s) {
    auto start = s.find_first_not_of("\r\n ");
    if (start == std::string::npos) return "";
    auto end = s.find_first_of("\r\n", start);
    return s.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

std::string limit_text(std::int64_t ms) { return ms % 1000 == 0 ? std::to_string(ms / 1000) + "s" : core::format_duration(ms); }

std::string why_it_ended(const sandbox_exit& ex, const js_limits& limits) {
    if (ex.wall_killed || ex.term_signal == SIGXCPU)
        return "the script ran longer than its time limit of " + limit_text(limits.timeout_ms) + " and was stopped";
    if (ex.stdout_overflow) return "the script's result is larger than " + std::to_string(limits.max_output) + " bytes";
    if (ex.err.find("heap out of memory") != std::string::npos || ex.err.find("Allocation failed") != std::string::npos ||
        ex.term_signal == SIGABRT || ex.exit_code == 134)
        return "the script used more than its memory limit of " + std::to_string(limits.memory_mb) + " MiB and was stopped";
    if (ex.term_signal != 0) return "the JavaScript engine was killed by signal " + std::to_string(ex.term_signal);
    auto line = first_line(ex.err);
    return "the JavaScript engine exited with status " + std::to_string(ex.exit_code) + (line.empty() ? "" : ": " + line);
}

js_outcome outcome_of(const core::json& r) {
    js_outcome o;
    o.ok = r.value("ok", false);
    if (o.ok) {
        o.value = r.contains("value") ? r["value"] : core::json();
    } else if (r.contains("error") && r["error"].is_object()) {
        o.error = r["error"].value("message", std::string("the script failed"));
        o.line = r["error"].value("line", 0);
    }
    if (r.contains("logs") && r["logs"].is_array())
        for (const auto& l : r["logs"]) o.logs.push_back(l.is_string() ? l.get<std::string>() : l.dump());
    return o;
}

}  // namespace

std::shared_ptr<js_engine> js_engine::locate(const std::string& configured) {
    if (!configured.empty()) {
        auto found = in_path(configured);
        return std::make_shared<js_engine>(found, found.empty() ? configured + " is not an executable (check --node)" : "");
    }
    if (const char* env = std::getenv("ORBITMESH_NODE"); env && *env) {
        auto found = in_path(env);
        return std::make_shared<js_engine>(found, found.empty() ? std::string(env) + " (from ORBITMESH_NODE) is not an executable" : "");
    }
    for (const char* name : {"node", "nodejs"})
        if (auto found = in_path(name); !found.empty()) return std::make_shared<js_engine>(found, "");
    return std::make_shared<js_engine>("", "no node or nodejs in PATH");
}

const js_engine::probe& js_engine::probed() const {
    std::call_once(probe_once_, [this] {
        if (path_.empty()) return;
        sandbox_spec spec;
        spec.argv = {path_, "--version"};
        spec.wall_ms = 10'000;
        auto ex = run_sandboxed(spec);
        probe_.version = first_line(ex.out);
        probe_.permission = permission_flag(probe_.version);
    });
    return probe_;
}

std::string js_engine::describe() const {
    if (!available()) return "no JavaScript engine: " + missing_;
    const auto& p = probed();
    return "node " + (p.version.empty() ? std::string("(version unknown)") : p.version) + " (" + path_ + ", permission model " +
           (p.permission.empty() ? "not available in this node; vm context and rlimits only" : "on") + ")";
}

void js_engine::require_available(const std::string& what) const {
    if (available()) return;
    throw core::error(core::error_kind::unavailable,
                      what + " needs a JavaScript engine and none was found: " + missing_ +
                          " (install Node.js, e.g. `apt-get install nodejs`, or give serve --node PATH)");
}

core::json js_engine::call(const core::json& request, const js_limits& limits, const std::atomic<bool>* cancel,
                           std::string& failure) const {
    const auto& p = probed();
    sandbox_spec spec;
    spec.argv = {path_, "--max-old-space-size=" + std::to_string(limits.memory_mb), "--no-warnings", "--no-addons"};
    if (!p.permission.empty()) spec.argv.push_back(p.permission);
    spec.argv.push_back("-e");
    spec.argv.push_back(js_sandbox_program());
    spec.stdin_data = request.dump(-1, ' ', false, core::json::error_handler_t::replace);
    spec.limits.address_space_bytes = (1536ull + 2ull * static_cast<std::uint64_t>(limits.memory_mb)) << 20;
    spec.limits.cpu_seconds = static_cast<std::uint64_t>(limits.timeout_ms / 1000 + 2);
    spec.wall_ms = limits.timeout_ms + 5'000;  // node's own start-up; its vm timeout fires first
    spec.max_stdout = limits.max_output + limits.max_log_bytes + 4096;
    spec.cancel = cancel;
    auto ex = run_sandboxed(spec);
    if (!ex.spawned) {
        failure = "cannot start the JavaScript engine " + path_ + ": " + std::strerror(ex.spawn_errno);
        return nullptr;
    }
    if (ex.cancelled) {
        failure = "the script was stopped: the hub is shutting down";
        return nullptr;
    }
    auto line = first_line(ex.out);
    auto answer = core::json::parse(line, nullptr, false);
    if (ex.wall_killed || ex.stdout_overflow || !answer.is_object()) {
        failure = why_it_ended(ex, limits);
        return nullptr;
    }
    if (answer.value("timeout", false)) {
        failure = "the script ran longer than its time limit of " + limit_text(limits.timeout_ms) + " and was stopped";
        return nullptr;
    }
    const auto* value = answer.contains("value") ? &answer["value"] : answer.contains("results") ? &answer["results"] : nullptr;
    if (line.size() > limits.max_output + limits.max_log_bytes || (value && value->dump().size() > limits.max_output)) {
        failure = "the script's result is larger than " + std::to_string(limits.max_output) + " bytes";
        return nullptr;
    }
    return answer;
}

js_outcome js_engine::run_script(const std::string& code, const core::json& context, const js_limits& limits,
                                 const std::atomic<bool>* cancel) const {
    require_available("a script step");
    core::json req{{"mode", "script"}, {"code", code}, {"context", context}, {"timeout_ms", limits.timeout_ms},
                   {"max_log_bytes", limits.max_log_bytes}};
    std::string failure;
    auto answer = call(req, limits, cancel, failure);
    if (answer.is_null()) {
        js_outcome o;
        o.error = failure;
        return o;
    }
    return outcome_of(answer);
}

std::vector<js_outcome> js_engine::check_syntax(const std::vector<std::pair<bool, std::string>>& items, const js_limits& limits) const {
    require_available("checking JavaScript");
    core::json list = core::json::array();
    for (const auto& [is_script, code] : items) list.push_back(is_script ? core::json{{"script", code}} : core::json{{"expr", code}});
    std::string failure;
    auto answer = call({{"mode", "check"}, {"items", list}, {"context", nullptr}, {"timeout_ms", limits.timeout_ms}}, limits, nullptr, failure);
    std::vector<js_outcome> out;
    if (answer.is_object() && answer.contains("results"))
        for (const auto& r : answer["results"]) out.push_back(outcome_of(r));
    if (out.size() != items.size()) {
        js_outcome o;
        o.error = failure.empty() ? "the JavaScript engine gave no answer" : failure;
        out.assign(items.size(), o);
    }
    return out;
}

std::vector<js_outcome> js_engine::evaluate(const std::vector<std::string>& exprs, const core::json& context,
                                            const js_limits& limits, const std::atomic<bool>* cancel) const {
    require_available("a JavaScript expression");
    core::json req{{"mode", "exprs"}, {"exprs", exprs}, {"context", context}, {"timeout_ms", limits.timeout_ms},
                   {"max_log_bytes", limits.max_log_bytes}};
    std::string failure;
    auto answer = call(req, limits, cancel, failure);
    std::vector<js_outcome> out;
    if (answer.is_null() || !answer.contains("results") || !answer["results"].is_array()) {
        js_outcome o;
        o.error = failure.empty() ? "the JavaScript engine gave no results" : failure;
        out.assign(exprs.size(), o);
        return out;
    }
    for (const auto& r : answer["results"]) out.push_back(outcome_of(r));
    out.resize(exprs.size());
    return out;
}

}  // namespace orbitmesh::engine
