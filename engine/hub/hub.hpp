#pragma once
#include <array>
#include <deque>
#include <optional>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/agent.hpp"
#include "core/agent_messages.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/job.hpp"
#include "core/twin.hpp"
#include "engine/hub/circuit_breaker.hpp"
#include "core/secret_mask.hpp"
#include "engine/hub/deadline_queue.hpp"
#include "engine/hub/dispatcher.hpp"
#include "engine/hub/histogram.hpp"
#include "engine/hub/hub_options.hpp"
#include "engine/hub/job_query.hpp"
#include "engine/hub/job_port.hpp"
#include "engine/hub/waiter_list.hpp"
#include "transport/asio.hpp"
#include "engine/hub/secret_store.hpp"
#include "store/event_store.hpp"
#include "store/shared_log.hpp"
#include "transport/mesh_peer.hpp"

namespace orbitmesh::engine {

/// The hub's state machine: registry, dispatcher, ACK tracking, retries, agent loss, waiters.
/// Every public call is thread-safe (it posts to the hub strand); callbacks run on that strand
/// and only after the events they report are committed (accepted means durable).
class hub : public std::enable_shared_from_this<hub>, private job_port {
public:
    using strand = boost::asio::strand<boost::asio::io_context::executor_type>;
    /// Either a value or an error; exactly one is set.
    template <typename T>
    struct outcome {
        T value{};
        std::optional<core::error> error;
    };
    using job_reply = std::function<void(outcome<core::json>)>;
    using submit_reply = std::function<void(outcome<core::json>, bool created)>;

    /// `clock` and `deadlines` are the seams tests drive (the system clock and a timer_deadlines on
    /// the hub strand when not given); `clock` must outlive the hub.
    hub(boost::asio::io_context& io, hub_options opts, store::event_store& store,
        const core::clock& clock = core::clock::system(), std::unique_ptr<deadline_queue> deadlines = nullptr);
    ~hub() override;  // out of line: the per-agent state is private to the hub's .cpp files
    /// Rebuilds jobs and agents by folding the event log, re-queues pending work and starts the
    /// agent-loss clock for jobs that were in flight. Call once, before serving.
    void recover();

    // Client API (HTTP). Replies carry JSON records (core::to_json).
    /// Creates jobs (or finds them by idempotency key); replies after commit with their records,
    /// or with `{id, state, idempotency_key}` summaries when `summaries` (batch submits: cheaper).
    void submit(std::vector<core::job_spec> specs, submit_reply reply, bool summaries = false);
    void get_job(const std::string& id, std::int64_t wait_ms, job_reply reply);
    void list_jobs(job_query query, job_reply reply);
    void cancel_job(const std::string& id, std::string reason, job_reply reply);
    void retry_job(const std::string& id, job_reply reply);
    void job_logs(const std::string& id, std::int64_t after, std::int64_t wait_ms, std::size_t limit, job_reply reply);
    void list_agents(job_reply reply);
    /// Jobs per state, queue depth and agent counts, kept incrementally (cheap to poll).
    void stats(job_reply reply);
    /// `{"WORKFLOW": {"STATE": n}}` from the runs table (for /metrics; a query, not a counter).
    void workflow_run_counts(job_reply reply);
    void get_agent(const std::string& id_or_name, job_reply reply);
    /// Calls `method` on a connected agent (protocol invoke/reply); replies with its value, or an
    /// error: not_found, unavailable (not connected / went away), timeout, failed (agent error).
    void invoke_agent(const std::string& id_or_name, std::string method, core::json args, std::int64_t timeout_ms,
                      job_reply reply);

    /// Both halves of an agent's twin (SPEC §7), by id or name.
    void get_twin(const std::string& id_or_name, job_reply reply);
    /// Merges `patch` (RFC 7386) into the desired half; replies with the twin once committed and
    /// sends `twin_desired` to the agent. `drain: true` takes the agent out of dispatch at once.
    void patch_twin(const std::string& id_or_name, core::json patch, std::string by, job_reply reply);

    // Agent connections (transport callbacks; mesh_intake.hpp parses what the hub is given).
    void on_open(const std::shared_ptr<transport::mesh_peer>& peer);
    void on_message(const std::shared_ptr<transport::mesh_peer>& peer, core::protocol::agent_message msg);
    void on_close(const std::shared_ptr<transport::mesh_peer>& peer, const std::string& reason);

    /// Closes (1008, `reason`) every agent connection whose upgrade was authenticated by token
    /// `token_id`, or by any token of refresh family `family` when that is not empty: revocation
    /// reaches open connections at once. Thread-safe.
    void close_sessions_of(std::string token_id, std::string family, std::string reason);

    /// Stops timers and waiters (they get 503); the store is flushed by the caller.
    void shutdown();
    /// Runs `fn` on the hub strand (for components driving jobs through the job_port).
    void post(std::function<void()> fn);
    /// The job interface for strand-bound components. Call only on the strand.
    job_port& jobs() { return *this; }
    /// Adds an observer of job outcomes (the workflow runner). Call before recover().
    void attach(std::shared_ptr<job_observer> observer) { observers_.push_back(std::move(observer)); }

    /// Runs `fn` on the strand after every commit, in commit order, and after other hubs' events
    /// are folded on a shared store (the event stream tails the log from there). Call before
    /// recover().
    void on_commit(std::function<void()> fn) { commit_listeners_.push_back(std::move(fn)); }

    // Shared store (SPEC §10, hub_peers.cpp). Thread-safe; the shared_log calls them.
    /// Events other hubs appended, in seq order: folded into memory and acted on here.
    void on_foreign_events(std::vector<core::event> events);
    /// Other hubs stored output of these jobs (all: of any): their `logs -f` readers here wake.
    void on_foreign_logs(std::vector<std::string> job_ids, bool all);
    /// Every hub's heartbeat age: the jobs of a hub silent for 3 s are reclaimed.
    void on_peer_hubs(std::vector<store::peer_hub> hubs);
    /// The last seq recover() folded (where the follower starts).
    std::int64_t folded_seq() const { return folded_seq_; }

    /// True once a store commit failed and the hub stopped itself.
    bool failed() const { return failed_; }

private:
    struct agent_entry;
    struct session;
    struct job_waiter {  // GET /jobs/ID?wait=
        job_reply reply;
    };
    struct log_waiter {  // GET /jobs/ID/logs?wait=
        std::int64_t after = 0;
        std::size_t limit = 0;
        job_reply reply;
    };
    struct pending_call {  // an invoke waiting for the agent's reply
        std::string agent_id;
        job_reply reply;
    };

    // job_port (hub_port.cpp)
    std::string create_job(core::job_spec spec, store::write_batch& batch) override;
    void cancel_job(const std::string& job_id, const std::string& reason) override;
    const core::job_record* job(const std::string& job_id) override { return find_job(job_id); }
    std::vector<core::agent_record> agents_for(const core::job_spec& spec) override;
    void commit(store::write_batch batch, std::function<void()> on_committed) override {
        persist(std::move(batch), std::move(on_committed));
    }
    void after(std::int64_t delay_ms, std::function<void()> fn) override { deadlines_->after(delay_ms, std::move(fn)); }
    std::optional<core::json> stored_run(const std::string& run_id) override;
    std::vector<core::json> stored_runs(std::size_t limit, const std::string& state) override;
    std::vector<core::event> stream_events(const std::string& stream) override;
    bool shared_store() const override { return opts_.shared_store; }

    /// Posts `fn(reply)` to the strand behind the last guard (hub_state.hpp): an exception escaping
    /// it is logged and fails the request through `reply` (a copy kept for that).
    template <class Reply, class Fn>
    void on_strand(const char* what, Reply reply, Fn fn);

    // hub_recovery.cpp: the fold of the event log at start-up, from the newest snapshot
    /// Loads the newest snapshot into memory and folds its observers' streams up to it;
    /// returns its seq (0: none, or unreadable — then the whole log is folded).
    std::int64_t restore_snapshot();
    void fold_event(const core::event& e);
    /// Folds one job event (the job from memory, else its row); counts follow.
    void fold_job_event(const core::event& e);
    void keep_version(const core::event& e);
    std::pair<std::size_t, std::size_t> resume_recovered_jobs();  // (pending, in flight)
    void rewrite_lagging_rows();

    // hub_peers.cpp: several hubs on one store
    void fold_foreign(const core::event& e);
    void fold_foreign_agent(const core::event& e);
    /// Rebuilds a job from its stream in the store (the truth when memory disagrees) and adopts it.
    void reload_job(const std::string& id);
    /// The job as its events in the store make it (version 0: none).
    core::job_record job_from_log(const std::string& id);
    /// Claims (store claim_jobs) the jobs of `choices` another hub queued, before assigning them;
    /// drops the choices another hub claimed (their jobs leave this queue for the claim's time).
    void claim_foreign(std::vector<assignment_choice>& choices);
    /// A job another hub created, known here from now on (counted, its key remembered).
    void keep_foreign(const std::string& id, core::job_record job);
    /// Another hub's job joins this hub's queue after `delay_ms` if it is still pending then.
    void queue_foreign_after(const std::string& id, std::int64_t delay_ms);
    /// Drops a job this hub created whose submission the store refused: it never existed.
    void forget_job(const std::string& id);
    /// A job created here was refused because `holder` holds its idempotency key: the holder
    /// stands in for it (superseded_), loaded from the log when this hub has not folded it yet.
    void take_holder(const std::string& phantom, const std::string& holder);
    /// The unfinished runs a dead hub drove become this hub's, as far as the database gives them.
    void take_over_runs(const std::string& dead_hub);
    /// Brings counts, the queue, agent slots and waiters in line after `job` changed from `before`
    /// by another hub's doing.
    void adopt(const core::job_record& before, core::job_record& job);
    void handle_refused(const std::vector<store::refused_event>& refused);
    /// The agent is connected to another hub that is alive (its jobs are that hub's to reclaim).
    bool agent_elsewhere(const std::string& agent_id) const;
    void send_cancel(const std::string& job_id, int attempt, const std::string& why);

    // hub_snapshot.cpp: snapshots of the live state
    void take_snapshot();
    void count_for_snapshot(std::size_t events);

    // hub_retention.cpp: finished jobs leaving memory, and coming back from the `jobs` table
    void rows_committed(std::vector<std::pair<std::string, std::int64_t>> ended);
    void prune_jobs();
    core::json list_jobs_json(const job_query& q, const std::optional<core::job_state>& wanted);

    // hub.cpp: persistence, projection rows, dispatch, the periodic check
    void persist(store::write_batch batch, std::function<void()> on_committed);
    void flush_staged();
    void record(core::job_record& job, std::string_view type, core::json data, store::write_batch& batch);
    /// Bookkeeping after an event was applied to `job`: stage it, state counts, projection row.
    void recorded(core::job_record& job, bool fresh, core::job_state before, core::event e, store::write_batch& batch);
    void stage_dirty_jobs(std::size_t limit);
    void fail_fatally(const std::string& what);
    void schedule_dispatch();
    void dispatch();
    void periodic_check();
    core::job_record* find_job(const std::string& id);

    // hub_jobs.cpp: client operations and how jobs end
    void submit_on_strand(std::vector<core::job_spec>& specs, submit_reply& reply, bool summaries);
    void begin_cancel(core::job_record& job, const std::string& why, std::function<void()> done);
    void finish_job(core::job_record& job, core::job_state state, const core::json& result, store::write_batch& batch);
    void settle_failure(core::job_record& job, core::job_state state, const core::json& result, store::write_batch& batch);
    /// `foreign`: another hub ended it (shared store); its event triggers fired there.
    void job_ended(const std::string& job_id, bool foreign = false);
    /// job_ended() if the job is terminal now (after a commit that may have ended it).
    void end_if_terminal(const std::string& job_id);
    // hub_pending.cpp: why a pending job has no agent; its pending_timeout
    std::string pending_reason(const core::job_record& job);
    core::json job_json(const core::job_record& job);  // to_json plus `pending_reason` while pending
    void arm_pending_timeout(const core::job_record& job);

    // hub_logs.cpp: output lines from agents and their readers
    void handle_output(agent_entry& a, core::protocol::output& m);
    void notify_logs(const std::string& job_id);
    core::json logs_reply(const std::string& job_id, std::int64_t after, std::size_t limit);

    // hub_agents.cpp: the mesh protocol up to the result (sessions, hello, ack/nack, heartbeats, assign)
    void handle_message(const std::shared_ptr<transport::mesh_peer>& peer, core::protocol::agent_message& m);
    void handle_hello(const std::shared_ptr<transport::mesh_peer>& peer, session& s, core::protocol::hello& m);
    /// hello's reconciliation: jobs the hub has on the agent that it does not list are requeued
    /// (returned); attempts it lists that are no longer current get a `cancel`.
    std::vector<std::string> reconcile(agent_entry& a, const std::shared_ptr<transport::mesh_peer>& peer,
                                       std::vector<core::protocol::running_job>& running, store::write_batch& batch);
    void handle_ack(agent_entry& a, const core::protocol::ack& m);
    void handle_nack(agent_entry& a, const core::protocol::nack& m);
    void handle_progress(agent_entry& a, core::protocol::progress& m);
    void handle_heartbeat(agent_entry& a, const core::protocol::heartbeat& m);
    void send_assign(const std::string& job_id, int attempt);
    void record_agent_event(agent_entry& a, std::string_view type, store::write_batch& batch,
                            const std::string& reason = {});

    // hub_results.cpp: results, agent loss, reassignment, the circuit breaker, agent lookups
    void handle_result(agent_entry& a, const std::shared_ptr<transport::mesh_peer>& peer, core::protocol::result& m);
    void agent_lost(agent_entry& a, const std::string& reason);
    void reclaim(const std::string& job_id, int attempt, const std::string& agent_id);
    void requeue(core::job_record& job, const std::string& reason, bool counts, store::write_batch& batch);
    void release_slot(const std::string& agent_id, const std::string& job_id);
    void infra_failure(agent_entry& a);
    agent_entry* find_agent(const std::string& id_or_name);

    // hub_invoke.cpp: request-response calls to agents
    void handle_reply(core::protocol::reply& m);
    // hub_secrets.cpp: a job's `secrets` (names in its spec; values only in memory and on the wire)
    /// Throws core::error{invalid_input} naming a secret the hub cannot resolve.
    void check_secrets(const core::job_spec& spec) const;
    /// Adds the secret values to an `assign`; false when one is no longer defined (the job is
    /// then failed with the reason).
    bool add_secrets(core::job_record& job, core::json& assign);
    /// The mask of a job's secret values, or nullptr when it has none.
    const core::secret_mask* mask_for(const core::job_record& job);
    void fail_unresolved(core::job_record& job, const std::string& why);

    // hub_twin.cpp: twins (desired from operators, reported by agents)
    void fold_twin(const core::event& e);
    void send_twin_desired(agent_entry& a);
    void handle_twin_reported(agent_entry& a, core::protocol::twin_reported& m);
    void apply_reported(agent_entry& a);
    bool draining(const std::string& agent_id) const;
    core::json with_twin(core::json agent) const;  // adds `draining` and `drift` to an agent's JSON

    boost::asio::io_context& io_;
    strand strand_;
    hub_options opts_;
    secret_store secrets_{opts_.secrets_dir};
    store::event_store& store_;
    const core::clock& clock_;
    std::unique_ptr<deadline_queue> deadlines_;
    dispatcher dispatcher_;
    circuit_breaker breaker_;

    std::map<std::string, core::job_record> jobs_;  // by id; ids are time-ordered
    std::unordered_map<std::string, std::pair<std::string, std::int64_t>> idempotency_;  // key -> (job, created)
    std::unordered_map<std::string, std::unique_ptr<agent_entry>> agents_;
    std::unordered_map<std::uint64_t, session> sessions_;  // by peer id
    waiter_list<job_waiter> job_waiters_;  // by job id
    waiter_list<log_waiter> log_waiters_;  // by job id
    waiter_list<pending_call> calls_;      // by invoke call id
    std::unordered_map<std::string, std::vector<store::log_line>> recent_logs_;  // in-flight jobs' output
    std::unordered_map<std::string, std::pair<std::string, std::int64_t>> exclusions_;  // job -> (agent, until)
    std::unordered_map<std::string, core::secret_mask> job_masks_;  // jobs in flight with secrets
    std::unordered_map<std::string, core::twin_record> twins_;  // by agent id

    // Projection rows to rewrite. Rows of ended jobs go out with the next flush. Rows of jobs
    // still in flight are written by a tick every projection_tick_ms, at most
    // projection_rows_per_tick at a time: most are superseded by the job's end before then, and
    // under a flood of queued jobs writing each one's intermediate rows (or all of them at once,
    // stalling every commit behind one huge transaction) was the writer's main cost. The event
    // log is the truth; recovery rewrites rows that lag it.
    std::vector<std::string> ended_jobs_;
    std::unordered_set<std::string> dirty_jobs_;
    bool projection_timer_ = false;
    static constexpr std::int64_t projection_tick_ms = 100;
    static constexpr std::size_t projection_rows_per_tick = 100;
    std::array<std::size_t, core::job_state_count> state_counts_{};  // jobs per state, kept by record()
    std::size_t total_jobs_ = 0;       // every job ever, in memory or not
    std::size_t pruned_jobs_ = 0;      // finished jobs that left memory (their rows answer for them)
    std::deque<std::pair<std::string, std::int64_t>> prunable_;  // (job, version) ended, row durable
    std::size_t events_since_snapshot_ = 0;
    bool snapshot_posted_ = false;
    ms_histogram dispatch_latency_;  // created -> first assignment
    ms_histogram job_duration_;      // started -> ended
    std::set<std::string> dirty_agents_;
    std::unordered_map<std::string, std::int64_t> log_seq_;  // job -> last output line seq
    std::unordered_map<std::string, std::pair<int, std::int64_t>> agent_seq_;  // job -> (attempt, agent's last seq taken)
    std::int64_t started_ms_ = clock_.now_ms();  // wall clock when this hub process started
    std::vector<std::shared_ptr<job_observer>> observers_;
    std::vector<std::function<void()>> commit_listeners_;
    std::uint64_t call_counter_ = 0;
    store::write_batch staged_;
    std::vector<std::function<void()>> staged_callbacks_;
    bool flush_posted_ = false;
    bool dispatch_posted_ = false;
    bool stopping_ = false;
    std::atomic<bool> failed_{false};
    std::string session_prefix_;
    std::int64_t folded_seq_ = 0;
    std::unordered_map<std::string, std::string> agent_hub_;  // agent -> the hub it is connected to
    std::unordered_map<std::string, std::int64_t> hub_age_;   // hub -> heartbeat age at the last report
    std::set<std::string> dead_hubs_;
    std::set<std::pair<std::string, int>> reclaim_armed_;      // (job, attempt) of dead hubs' jobs
    std::unordered_set<std::string> runs_elsewhere_;          // run streams other hubs drive (not replayed here)
    /// Shared store: jobs whose creation was refused for their idempotency key -> the job that
    /// holds it, for the replies of the commit that refused them (cleared after its callbacks).
    std::unordered_map<std::string, std::string> superseded_;
    std::unordered_set<std::string> foreign_pending_;  // pending jobs another hub queued: claimed before assigned
    std::uint64_t claims_won_ = 0, claims_lost_ = 0, refused_events_ = 0;  // shared store, for stats
    std::unordered_map<std::string, core::job_record> unassigned_;  // jobs as they were before an uncommitted assignment
    std::uint64_t session_counter_ = 0;
};

}  // namespace orbitmesh::engine
