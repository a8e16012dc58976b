#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace orbitmesh::engine::agent {

/// What to start: argv[0] is the program (looked up in PATH when `search_path`).
struct process_spec {
    std::vector<std::string> argv;
    bool search_path = false;
    std::vector<std::string> env;           // complete environment, "KEY=VALUE"
    std::filesystem::path cwd;              // empty = the agent's own
    std::optional<std::string> stdin_data;  // nullopt = /dev/null
};

/// How a process ended.
struct process_exit {
    bool spawned = false;
    int spawn_errno = 0;      // why it could not start (ENOENT, EACCES, ...)
    int exit_code = -1;       // exit status, or 128 + signal when killed
    int term_signal = 0;      // non-zero when a signal ended it
    std::string stdout_tail;  // the last `max_captured` bytes of stdout
    bool stdout_truncated = false;
    std::string last_stderr_line;
};

/// One child process in its own session (so its own process group), watched by its own thread:
/// stdout/stderr are read line by line as produced, stdin is fed, the exit is reaped. When the
/// main process exits, whatever is left of its group is killed: a job owns its process group, and
/// a daemon meant to outlive the job must detach itself (setsid). Callbacks run on the watcher
/// thread. The destructor kills a still-running group and joins the thread.
class child_process {
public:
    using line_fn = std::function<void(bool is_stderr, std::string line)>;
    using exit_fn = std::function<void(process_exit)>;
    static constexpr std::size_t max_captured = 1u << 20;

    /// Starts the watcher thread, which spawns the process; exit_fn is called exactly once.
    child_process(process_spec spec, line_fn on_line, exit_fn on_exit);
    ~child_process();
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;

    /// SIGTERM to the whole group now, SIGKILL after `grace_ms`. Thread-safe; the first call counts.
    void terminate(std::int64_t grace_ms);

    /// Reaps exited children of this process that no child_process owns: the orphans a job left
    /// behind are re-parented to PID 1, which is the agent itself in many containers. Thread-safe.
    static void reap_orphans();

private:
    struct watch_state;
    void run();
    int spawn(watch_state& w);
    void watch(watch_state& w);
    void apply_stop_request(watch_state& w);
    void read_pipe(watch_state& w, int which);
    void write_stdin(watch_state& w);
    void reap(watch_state& w, process_exit& out);

    process_spec spec_;
    line_fn on_line_;
    exit_fn on_exit_;
    int wake_fd_ = -1;  // eventfd: terminate() wakes the watcher's poll
    std::mutex mu_;
    bool stop_requested_ = false;
    std::int64_t grace_ms_ = 0;
    std::thread thread_;
};

}  // namespace orbitmesh::engine::agent
