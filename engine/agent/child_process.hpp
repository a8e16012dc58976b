#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "engine/agent/spawn_plan.hpp"

namespace orbitmesh::engine::agent {

class job_containment;
struct supervisor_handle;
struct supervisor_launch;

/// How a process ended.
struct process_exit {
    bool spawned = false;
    int spawn_errno = 0;      // why it could not start (ENOENT, EACCES, ...)
    int spawn_stage = 0;      // which step failed (supervisor_report::stage_t)
    int exit_code = -1;       // exit status, or 128 + signal when killed; -1 = unknown
    int term_signal = 0;      // non-zero when a signal ended it
    bool supervisor_lost = false;  // its supervisor was killed: the status is unknown
    std::string stdout_tail;  // the last `max_captured` bytes of stdout
    bool stdout_truncated = false;
    std::string last_stderr_line;
};

/// One job process, started through its supervisor (job_supervisor.hpp) in its own session and
/// process group, and watched by its own thread: stdout/stderr are read line by line as produced,
/// stdin is fed, the exit is reported. When the main process exits, whatever is left of its group
/// (and of its cgroup, when `containment` gives it one) is killed: a job owns its processes. If the
/// agent dies, its supervisors kill the groups at once; `containment` also records each job in the
/// data dir so a restart can clean up after a crash that took the supervisors too. Callbacks run
/// on the watcher thread. The destructor kills what still runs and joins the thread.
class child_process {
public:
    using line_fn = std::function<void(bool is_stderr, std::string line)>;
    using exit_fn = std::function<void(process_exit)>;
    static constexpr std::size_t max_captured = 1u << 20;

    /// Starts the watcher thread, which spawns the process; exit_fn is called exactly once.
    /// `containment` may be null (no record, no cgroup; the supervisor still holds the group).
    child_process(spawn_plan plan, std::shared_ptr<job_containment> containment, line_fn on_line, exit_fn on_exit);
    ~child_process();
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;

    /// SIGTERM to the whole group now, SIGKILL after `grace_ms`. Thread-safe; a later call can only
    /// bring the SIGKILL closer (a second Ctrl-C of the agent), never move it away.
    void terminate(std::int64_t grace_ms);

    /// Reaps exited children of this process that no child_process owns: the orphans a job left
    /// behind are re-parented to PID 1, which is the agent itself in many containers. Thread-safe.
    static void reap_orphans();

private:
    struct watch_state;
    void run();
    int spawn(watch_state& w);
    int launch(const supervisor_launch& l, supervisor_handle& h);
    void watch(watch_state& w);
    void apply_stop_request(watch_state& w);
    void read_status(watch_state& w);
    void read_pipe(watch_state& w, int which);
    void write_stdin(watch_state& w);
    void reap(watch_state& w, process_exit& out);

    spawn_plan plan_;
    std::shared_ptr<job_containment> containment_;
    line_fn on_line_;
    exit_fn on_exit_;
    int wake_fd_ = -1;  // eventfd: terminate() wakes the watcher's poll
    std::mutex mu_;
    bool stop_requested_ = false;
    std::int64_t kill_at_ms_ = 0;  // steady clock
    std::thread thread_;
};

}  // namespace orbitmesh::engine::agent
