#pragma once
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <queue>
#include <string>
#include <vector>

#include "core/job.hpp"
#include "core/json.hpp"
#include "engine/hub/job_port.hpp"

namespace orbitmesh::engine {

/// What one mocked attempt of a job answers, `delay_ms` after it was dispatched.
struct mock_answer {
    core::job_state state = core::job_state::succeeded;
    std::optional<int> exit_code;
    core::json output;
    std::string error;
    std::int64_t delay_ms = 0;
};

/// A step's mock: one answer per attempt, the last one repeating (a sequence tests retries).
struct step_mock {
    std::vector<mock_answer> answers;
};

/// A job the engine dispatched to the mock, in dispatch order.
struct mock_call {
    std::string path;    // the step's path (`build`, `each[1]/upload`)
    int attempt = 0;     // the step's attempt
    bool compensation = false;
    std::string job_id;
    std::int64_t at_ms = 0;  // virtual time since the run began
    core::json payload;
    bool mocked = true;  // false: no mock matched; the job was answered failed
};

/// The engine's dispatch interface (job_port) answered by mocks instead of agents: `workflow
/// test` and `replay --what-if` drive the real workflow runner through it. Time is virtual:
/// `after` and mock delays go into one queue that drive() runs in time order at once, so a
/// `delay: 1h` step or a retry backoff costs nothing. No process, socket or store is touched.
/// Single-threaded like the hub strand, except post() (for the runner's worker threads).
class mock_port : public job_port {
public:
    /// `compensations`: mocks for the compensation jobs of steps (default: they succeed).
    /// `unmocked_succeed`: a job no mock answers succeeds with no output (what-if) instead of
    /// failing (workflow test); either way its call says `mocked = false`.
    mock_port(std::map<std::string, step_mock> jobs, std::map<std::string, step_mock> compensations,
              bool unmocked_succeed = false);

    /// The observer told about ended jobs (the runner); set before drive().
    void set_observer(std::weak_ptr<job_observer> o) { observer_ = std::move(o); }
    /// Thread-safe: runs `fn` in drive()'s loop (the runner's strand_poster).
    void post(std::function<void()> fn);
    /// Runs queued work and timers in virtual-time order until `done()` holds, nothing is left
    /// (false), or `horizon_ms` of virtual time passed (false). `between` runs whenever the
    /// queue has nothing due now (approvals are given there).
    bool drive(const std::function<bool()>& done, std::int64_t horizon_ms, const std::function<void()>& between = {});
    std::int64_t now() const { return now_; }
    const std::vector<mock_call>& calls() const { return calls_; }
    /// Committed events of streams other than job-* (run-*, workflow-*), in order.
    const std::vector<core::event>& events() const { return events_; }

    // job_port
    std::string create_job(core::job_spec spec, store::write_batch& batch) override;
    void cancel_job(const std::string& job_id, const std::string& reason) override;
    const core::job_record* job(const std::string& job_id) override;
    std::vector<core::agent_record> agents_for(const core::job_spec& spec) override;
    void commit(store::write_batch batch, std::function<void()> on_committed) override;
    void after(std::int64_t delay_ms, std::function<void()> fn) override;

private:
    struct timer {
        std::int64_t due = 0;
        std::uint64_t order = 0;
        std::function<void()> fn;
        bool operator>(const timer& o) const { return due != o.due ? due > o.due : order > o.order; }
    };
    void dispatch(const std::string& job_id, const std::string& path, int attempt, bool compensation);
    const step_mock* find_mock(const std::map<std::string, step_mock>& mocks, const std::string& path) const;
    void end_job(const std::string& job_id, const mock_answer& a);
    void take_posted();

    std::map<std::string, step_mock> jobs_, compensations_;
    bool unmocked_succeed_ = false;
    std::weak_ptr<job_observer> observer_;
    std::map<std::string, core::job_record> records_;
    std::map<std::string, int> answered_;  // (kind:path) -> attempts answered so far
    std::vector<mock_call> calls_;
    std::vector<core::event> events_;
    std::priority_queue<timer, std::vector<timer>, std::greater<>> timers_;
    std::uint64_t order_ = 0;
    std::int64_t now_ = 0;
    int next_id_ = 0;
    std::mutex posted_mutex_;
    std::condition_variable posted_cv_;
    std::vector<std::function<void()>> posted_;
};

/// The step id a path names without its containers and indexes: `each[2]/upload` -> `upload`.
std::string step_id_of(const std::string& path);

}  // namespace orbitmesh::engine
