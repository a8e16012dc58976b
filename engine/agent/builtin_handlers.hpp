#pragma once
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/url.hpp"

#include "engine/agent/handler.hpp"
#include "engine/agent/path_guard.hpp"

namespace orbitmesh::engine::agent {

class job_containment;
/// Shared by the process handlers: records and cgroups of their jobs; null = neither.
using containment_ptr = std::shared_ptr<job_containment>;

/// `shell`: payload is a script or {script, env, cwd, stdin}; runs `/bin/sh -c SCRIPT`.
std::shared_ptr<handler> make_shell_handler(containment_ptr containment = nullptr);
/// `exec`: payload is an argv array or {argv, env, cwd, stdin}; no shell.
std::shared_ptr<handler> make_exec_handler(containment_ptr containment = nullptr);
/// `echo`: the output is the payload; finishes inline (no thread, no timer).
std::shared_ptr<handler> make_echo_handler();
/// `sleep`: seconds, "5", "250ms", {seconds} or {duration}; progress each second; cancellable.
std::shared_ptr<handler> make_sleep_handler();
/// `system.info` / `system.health`; `disk_path` is where free disk space is measured.
std::shared_ptr<handler> make_system_info_handler(std::filesystem::path disk_path);
std::shared_ptr<handler> make_system_health_handler(std::filesystem::path disk_path);
/// `file.read`, `file.write`, `file.stat`, confined to the guard's roots.
std::shared_ptr<handler> make_file_read_handler(std::shared_ptr<const path_guard> guard);
std::shared_ptr<handler> make_file_write_handler(std::shared_ptr<const path_guard> guard);
std::shared_ptr<handler> make_file_stat_handler(std::shared_ptr<const path_guard> guard);
/// What `filewatch.*` need: where watches may be (the file.* roots) and where to post changes.
struct file_watch_config {
    std::shared_ptr<const path_guard> guard;
    core::server_url server;
    std::string token;
    std::string agent_id;
    std::string agent_name;
};
/// `filewatch.start` {watch_id, path, filter, include_subdirectories, change_types, debounce_ms}
/// (camelCase accepted), `filewatch.stop` {watch_id}, `filewatch.list`: one inotify watcher per
/// agent; debounced changes are posted to the hub as `file.changed` events.
std::vector<std::shared_ptr<handler>> make_file_watch_handlers(file_watch_config cfg);
/// A plugin executable: payload JSON on stdin, stdout streamed, last JSON line = output.
std::shared_ptr<handler> make_plugin_handler(std::string name, std::filesystem::path program,
                                             containment_ptr containment = nullptr);

}  // namespace orbitmesh::engine::agent
