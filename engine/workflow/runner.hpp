#pragma once
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/job.hpp"
#include "core/json.hpp"
#include "core/run.hpp"
#include "core/workflow.hpp"
#include "engine/hub/job_port.hpp"
#include "engine/workflow/http_policy.hpp"
#include "engine/workflow/js_engine.hpp"
#include "engine/workflow/notify_worker.hpp"
#include "engine/workflow/workflow_registry.hpp"

namespace orbitmesh::engine {

class step_pool;
struct rendered_notification;

/// Runs `fn` on the hub strand (hub::post); used by worker threads to hand results back.
using strand_poster = std::function<void(std::function<void()>)>;
/// An API answer: HTTP status and JSON body. Called once, on the strand.
using api_reply = std::function<void(int status, core::json body)>;

/// What starts a run (`POST /api/v1/runs`, a sub_workflow step, `rerun`).
struct run_request {
    std::string workflow_id;
    std::string version;  // "" = latest registered
    core::json inputs = core::json::object();
    std::string idempotency_key;
    std::int64_t timeout_ms = 0;  // 0 = the workflow's timeout
};

/// `POST /api/v1/runs/ID/approve`: who approves (or rejects) which waiting step.
struct approval_request {
    std::string step;  // the step's id or path
    std::string approver;
    bool reject = false;
    std::string comment;
};

/// Who else hears the runner's facts, on the strand (the trigger engine, engine/workflow/trigger_engine).
struct runner_hooks {
    /// A new version of the workflow was committed.
    std::function<void(const std::string& workflow_id)> registered;
    /// An event: one posted through the API, or a run's end (`run.succeeded`, `run.failed`, …, data =
    /// the run record). Returns how many runs it started (their batches are queued before the reply).
    std::function<int(const std::string& type, const core::json& data, const std::string& correlation_key)> event;
};

struct runner_options {
    std::size_t max_feed = 10'000;        // client events kept per run
    std::size_t keep_finished = 1'000;    // finished runs kept in memory; older ones read from the log and `runs`
    std::size_t max_waiters = 1'000;      // held requests per run
    std::int64_t notify_timeout_ms = 5'000;
    // The original format's steps (docs/original-format.md, docs/javascript.md).
    std::shared_ptr<js_engine> js;          // null: found in PATH when first needed
    js_limits script_limits;                // a step's own timeout lowers timeout_ms
    std::map<std::string, std::string> notify_channels;  // name -> webhook URL or "log"
    http_policy http;                       // where http steps may go
    std::int64_t http_timeout_ms = 30'000;  // when the step sets none
    std::size_t http_max_response = 1u << 20;
    std::size_t workers = 2;                // threads for script and http steps
    std::size_t max_queued = 1'000;         // their waiting work, past which steps fail
    std::size_t notify_threads = 2;    // webhook deliveries in flight at once
    std::size_t notify_queue = 256;    // waiting beyond those; past it a notify step fails
    notify_worker::post_fn notify_post;  // how a webhook is POSTed (empty: for real; tests fake it)
};

/// The workflow runner (SPEC §4): registry, event-sourced runs in `run-<id>` streams, steps
/// executed through the hub's job_port. Lives on the hub strand: every member must be called
/// there (HTTP routes post to it); not thread-safe. Client calls throw core::error.
class runner : public job_observer, public std::enable_shared_from_this<runner> {
public:
    runner(job_port& port, strand_poster post, runner_options opts = {});
    ~runner() override;
    /// Where the hub listens, so http steps cannot call it (set once it is bound).
    void set_hub_address(const std::string& host, std::uint16_t port);

    // job_observer
    void replay(const core::event& e) override;
    /// Shared store: a workflow registered on another hub is registered here too (its triggers armed).
    void foreign_event(const core::event& e) override;
    void recovered() override;
    void adopt_run(const std::string& run_id) override;
    void run_refused(const std::string& run_id, const store::refused_event& r) override;
    void job_ended(const core::job_record& job) override;
    void job_output(const store::log_line& line) override;
    void add_stats(core::json& stats) const override;  // "runs": {state: count}
    std::vector<std::string> restore(const core::hub_snapshot& s) override;
    void snapshot(core::hub_snapshot& s, store::write_batch& batch) override;

    // Workflows
    void register_workflow(const std::string& source, const std::string& file, api_reply reply);
    core::json list_workflows() const;
    core::json get_workflow(const std::string& id) const;

    // Runs
    void start_run(run_request req, api_reply reply);
    void get_run(const std::string& id, std::int64_t wait_ms, api_reply reply);
    core::json list_runs(std::size_t limit, const std::string& state) const;
    void cancel_run(const std::string& id, const std::string& reason, api_reply reply);
    void pause_run(const std::string& id, bool pause, api_reply reply);
    void approve(const std::string& id, const approval_request& req, api_reply reply);
    void rerun(const std::string& id, const std::string& from, api_reply reply);
    void run_events(const std::string& id, std::int64_t after, std::int64_t wait_ms, api_reply reply);
    /// Wakes waits for `type` whose correlation key matches; replies `{matched}` once committed.
    void post_event(const std::string& type, const core::json& data, const std::string& key, api_reply reply);

    /// The run's record, or nullptr (for tests and the CLI's status).
    const core::run_record* find_run(const std::string& id) const;
    /// Shutdown: stops taking webhook deliveries and waits for the ones in flight (notify_worker).
    /// Thread-safe; call once the hub strand has stopped.
    void drain_notifications() { notify_->drain(); }
    const workflow_registry& registry() const { return registry_; }
    void set_hooks(runner_hooks hooks) { hooks_ = std::move(hooks); }

private:
    struct waiter {
        std::uint64_t token = 0;
        std::int64_t after = 0;
        api_reply reply;
    };
    struct live_run {
        core::run_record rec;
        std::shared_ptr<const core::workflow> wf;
        bool advancing = false;
        bool again = false;
        bool prunable = false;  // ended and its final row committed: may leave memory
        std::deque<core::json> feed;
        std::int64_t feed_seq = 0;
        std::vector<waiter> feed_waiters;
        std::vector<waiter> end_waiters;
        std::map<std::string, core::json> js_values;  // path -> {eN: value} of its JavaScript fields
        std::set<std::string> js_pending;             // paths whose JavaScript is being evaluated
        bool aborted = false;  // cancelled or timed out while ending: no compensation retries
    };
    struct scope {
        std::string prefix;                 // "" or "par/" or "each[2]/"
        std::vector<std::string> prefixes;  // visible scopes, outermost first
        core::json locals = core::json::object();
    };
    struct summary {
        bool done = true;
        bool failed = false;
        std::string error;
        int active = 0;
    };
    struct job_ref {
        std::string run;
        std::string path;
        bool compensation = false;
    };
    using step_def = core::workflow_step;

    // runner.cpp: records, commits, runs' lifecycle
    void record(live_run& r, std::string_view type, core::json data, store::write_batch& batch);
    void on_applied(live_run& r, const core::event& e);
    void flush(live_run& r, store::write_batch batch, std::function<void()> then = nullptr);
    live_run* find_live(const std::string& id);
    live_run& create_run(const std::shared_ptr<const core::workflow>& wf, const std::string& source,
                         const std::string& file, const run_request& req, core::json extra, store::write_batch& batch);
    void arm_run_timeout(live_run& r);
    void admit_pending(const std::string& workflow_id);
    int active_runs(const std::string& workflow_id) const;
    void resume_after_recovery(live_run& r);

    // run_walk.cpp: which steps start, containers, completion
    void advance(live_run& r);
    void pass(live_run& r);
    summary walk(live_run& r, const core::step_list& list, const scope& sc, int max_active, bool stop_new);
    void walk_container(live_run& r, const step_def& s, const scope& sc);
    void walk_foreach(live_run& r, const step_def& s, const std::string& path, const scope& sc, summary& sum,
                      core::json& outputs);
    int gate(const live_run& r, const core::step_list& list, const scope& sc, const step_def& s) const;
    void finish_containers(live_run& r);

    // run_context.cpp
    core::json context(const live_run& r, const scope& sc) const;
    scope scope_of(const live_run& r, const std::string& path) const;
    static scope child_scope(const scope& sc, const std::string& prefix);
    const step_def* def_of(const live_run& r, const std::string& path) const;

    // run_steps.cpp: starting steps
    void start_step(live_run& r, const step_def& s, const std::string& path, const scope& sc);
    void start_leaf(live_run& r, const step_def& s, const std::string& path, const scope& sc, int attempt);
    void start_job(live_run& r, const step_def& s, const std::string& path, const scope& sc, int attempt,
                   store::write_batch& batch);
    void start_waiting(live_run& r, const step_def& s, const std::string& path, const scope& sc, int attempt,
                       store::write_batch& batch);
    void start_sub_workflow(live_run& r, const step_def& s, const std::string& path, const scope& sc, int attempt,
                            store::write_batch& batch);
    void start_notify(live_run& r, const step_def& s, const std::string& path, const scope& sc, int attempt,
                      store::write_batch& batch);
    void start_script(live_run& r, const step_def& s, const std::string& path, const scope& sc, int attempt,
                      store::write_batch& batch);
    void start_http(live_run& r, const step_def& s, const std::string& path, const scope& sc, int attempt,
                    store::write_batch& batch);
    core::job_spec job_spec_for(const core::job_action& a, const step_def* s, const core::json& ctx) const;
    void arm_step_timeout(live_run& r, const std::string& path, int attempt, std::int64_t delay_ms);
    void arm_wait(live_run& r, const std::string& path, int attempt, std::int64_t until_ms);

    // run_settle.cpp: outcomes, retries, timeouts
    void on_step_job(live_run& r, const std::string& path);
    void settle(live_run& r, const std::string& path, core::step_state state, core::json output, std::string error);
    void step_timed_out(const std::string& run_id, const std::string& path, int attempt);
    void wait_elapsed(const std::string& run_id, const std::string& path, int attempt);
    void retry_due(const std::string& run_id, const std::string& path, int attempt);
    void notify_done(const std::string& run_id, const std::string& path, int attempt, bool ok, std::string error);
    void child_finished(const live_run& child);

    // run_script.cpp: JavaScript (script steps, the original's ${…}), the worker pool
    bool js_ready(live_run& r, const step_def& s, const std::string& path, const scope& sc, std::function<void()> then);
    void js_evaluated(const std::string& run_id, const std::string& path, std::vector<js_outcome> out);
    scope with_js(const live_run& r, const step_def& s, const std::string& path, const scope& sc) const;
    void script_done(const std::string& run_id, const std::string& path, int attempt, js_outcome out);
    void offload(const std::string& what, std::function<void(const std::atomic<bool>&)> work);
    const js_engine& javascript();
    // run_http.cpp: http steps; also ends notifications to the log channel
    void notify_log(live_run& r, const step_def& s, const std::string& path, int attempt, rendered_notification note,
                    store::write_batch& batch);
    void offload_done(const std::string& run_id, const std::string& path, int attempt, core::json output, std::string error);

    // run_ending.cpp: failure, cancel, compensation, finish
    void begin_ending(live_run& r, core::run_state state, const std::string& error, bool abort_running,
                      store::write_batch& batch);
    void compensate_next(live_run& r);
    void start_compensation(live_run& r, const std::string& path, int attempt);
    void cancel_once(const std::string& job_id, const std::string& reason);
    void abort_steps(live_run& r, const std::string& why);
    void cancel_run_now(live_run& r, core::run_state state, const std::string& reason);
    void on_compensation_job(live_run& r, const std::string& path, const core::job_record& job);
    void finish_run(live_run& r, core::run_state state);
    void wake(live_run& r);

    // run_rows.cpp: the `runs` projection, finished runs leaving memory, and coming back
    void stage_row(live_run& r, const core::event& e, store::write_batch& batch);
    void stage_dirty_rows(std::size_t limit, store::write_batch& batch);
    void row_committed(const std::string& id, std::int64_t version);
    void prune();
    /// The run in memory, else folded again from its stream (and kept until pruned); nullptr
    /// when the log has no such run.
    /// Folds run `id`'s stream from the store into runs_; nullptr (and nothing kept) when it has
    /// no events, they do not fold, or its definition is unreadable.
    live_run* load_from_log(const std::string& id);
    live_run* find_or_load(const std::string& id);
    /// Lets go of a run this hub must not drive (another hub does): the index of its jobs, and
    /// its waiters answered with what is known now.
    void drop_run(const std::string& id);
    void get_foreign_run(const std::string& id, std::int64_t wait_ms, api_reply reply);
    /// Another hub's run.finished of `id` was folded: its held `GET ?wait=` requests are answered.
    void foreign_run_ended(const std::string& id);
    /// The record of a run another hub drives, from the log (not kept), or its row.
    std::optional<core::json> foreign_record(const std::string& id);
    live_run& fold_into(const std::string& id, const core::event& e);

    // run_feed.cpp: client events and held requests
    void feed(live_run& r, core::json ev);
    core::json feed_reply(const live_run& r, std::int64_t after) const;
    void hold(std::vector<waiter>& list, std::int64_t after, std::int64_t wait_ms, const std::string& run_id,
              bool feed_wait, api_reply reply);

    job_port& port_;
    strand_poster post_;
    runner_options opts_;
    workflow_registry registry_;
    std::map<std::string, live_run> runs_;  // by id; ids are time-ordered
    std::unordered_map<std::string, job_ref> jobs_;
    std::unordered_map<std::string, std::string> idempotency_;  // key -> run id
    /// Shared store: runs whose start the store refused for their key -> the run holding it
    /// (for the reply of the start, after the refusing commit).
    std::unordered_map<std::string, std::string> superseded_;
    std::unordered_map<std::string, std::vector<waiter>> foreign_waiters_;  // GET ?wait= on runs other hubs drive
    std::map<std::string, std::shared_ptr<const core::workflow>> definitions_;  // by source text
    std::set<std::string> cancel_sent_;  // jobs already told to stop
    std::uint64_t waiter_token_ = 0;
    bool recovering_ = true;
    std::set<std::string> dirty_runs_;               // rows behind their events (in-flight runs)
    bool rows_timer_ = false;
    std::deque<std::pair<std::string, std::int64_t>> finished_;  // (run, version) whose final row committed
    std::map<std::string, std::int64_t> pruned_counts_;  // runs per state no longer in memory
    static constexpr std::int64_t rows_tick_ms = 100;
    static constexpr std::size_t rows_per_tick = 100;
    runner_hooks hooks_;
    std::shared_ptr<step_pool> pool_;  // started on the first script or http step
    std::unique_ptr<notify_worker> notify_;  // last: its threads stop first, while the rest still exists
};

}  // namespace orbitmesh::engine
