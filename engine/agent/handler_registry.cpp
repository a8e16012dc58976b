#include "engine/agent/handler_registry.hpp"

#include <unistd.h>

#include <algorithm>
#include <system_error>

#include "core/error.hpp"
#include "core/job.hpp"
#include "engine/agent/agent_log.hpp"
#include "engine/agent/builtin_handlers.hpp"

namespace orbitmesh::engine::agent {

namespace fs = std::filesystem;

bool handler_registry::add(std::shared_ptr<handler> h) {
    auto name = core::canonical_command(h->name());
    return by_name_.emplace(std::move(name), std::move(h)).second;
}

std::shared_ptr<handler> handler_registry::find(std::string_view command) const {
    // The hub sends canonical names: look them up as they are first.
    if (auto exact = by_name_.find(command); exact != by_name_.end()) return exact->second;
    auto it = by_name_.find(core::canonical_command(command));
    return it == by_name_.end() ? nullptr : it->second;
}

std::vector<std::string> handler_registry::names() const {
    std::vector<std::string> out;
    out.reserve(by_name_.size());
    for (const auto& [name, h] : by_name_) out.push_back(name);
    return out;
}

namespace {

bool is_plugin_file(const fs::directory_entry& e) {
    std::error_code ec;
    auto name = e.path().filename().string();
    return !name.empty() && name.front() != '.' && e.is_regular_file(ec) &&
           ::access(e.path().c_str(), X_OK) == 0;
}

void add_plugins(handler_registry& reg, const fs::path& dir, bool no_shell, const containment_ptr& containment) {
    std::error_code ec;
    fs::directory_iterator it(dir, ec);
    if (ec)
        throw core::error(core::error_kind::usage, "agent: cannot read the handlers directory \"" +
                                                       dir.string() + "\": " + ec.message() +
                                                       " (check --handlers)");
    std::vector<fs::path> files;
    for (const auto& e : it)
        if (is_plugin_file(e)) files.push_back(e.path());
    std::sort(files.begin(), files.end());  // deterministic winner when two names canonicalise alike
    for (const auto& f : files) {
        // The whole file name (SPEC §3): `file.download` and `file.sync` are two handlers, not
        // one `file` (a stem would cut at the handler's own dot).
        auto name = core::canonical_command(f.filename().string());
        if (no_shell && (name == "shell" || name == "exec")) {
            log_line("plugin \"" + f.string() + "\" ignored: --no-shell removes \"" + name + "\"");
            continue;
        }
        if (!reg.add(make_plugin_handler(name, fs::absolute(f), containment)))
            log_line("plugin \"" + f.string() + "\" ignored: a handler named \"" + name +
                     "\" already exists");
    }
}

}  // namespace

handler_registry make_registry(const registry_config& cfg) {
    handler_registry reg;
    if (!cfg.no_shell) {
        reg.add(make_shell_handler(cfg.containment, cfg.sandbox));
        reg.add(make_exec_handler(cfg.containment, cfg.sandbox));
    }
    reg.add(make_echo_handler());
    reg.add(make_sleep_handler());
    reg.add(make_system_info_handler(cfg.disk_path));
    reg.add(make_system_health_handler(cfg.disk_path));
    auto guard = std::make_shared<const path_guard>(cfg.allowed_roots);
    reg.add(make_file_read_handler(guard));
    reg.add(make_file_write_handler(guard));
    reg.add(make_file_stat_handler(guard));
    if (auto wasm = make_wasm_handler({cfg.node, guard, cfg.wasm_timeout_ms}, cfg.containment))
        reg.add(std::move(wasm));
    else
        log_line("no node or nodejs in PATH: the wasm handler is off (install nodejs, or give --node PATH)");
    if (!cfg.handlers_dir.empty()) add_plugins(reg, cfg.handlers_dir, cfg.no_shell, cfg.containment);
    return reg;
}

}  // namespace orbitmesh::engine::agent
