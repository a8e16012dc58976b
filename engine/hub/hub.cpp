#include "engine/hub/hub.hpp"

#include "core/clock.hpp"
#include "core/ids.hpp"
#include "core/job_events.hpp"
#include "core/protocol.hpp"
#include "engine/hub/hub_state.hpp"
#include "engine/hub/timer_deadlines.hpp"

namespace orbitmesh::engine {

hub::hub(boost::asio::io_context& io, hub_options opts, store::event_store& store, const core::clock& clock,
         std::unique_ptr<deadline_queue> deadlines)
    : io_(io),
      strand_(boost::asio::make_strand(io)),
      opts_(std::move(opts)),
      store_(store),
      clock_(clock),
      deadlines_(deadlines ? std::move(deadlines) : std::make_unique<timer_deadlines>(strand_, clock)),
      dispatcher_(opts_.balance),
      breaker_(opts_.breaker_threshold, opts_.breaker_cooldown_ms),
      session_prefix_(core::new_id()) {}

hub::~hub() = default;

void hub::persist(store::write_batch batch, std::function<void()> on_committed) {
    auto move_into = [](auto& to, auto& from) {
        to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
    };
    count_for_snapshot(batch.events.size());
    move_into(staged_.events, batch.events);
    move_into(staged_.jobs, batch.jobs);
    move_into(staged_.agents, batch.agents);
    move_into(staged_.logs, batch.logs);
    move_into(staged_.runs, batch.runs);
    move_into(staged_.keys, batch.keys);
    if (on_committed) staged_callbacks_.push_back(std::move(on_committed));
    if (!flush_posted_) {
        flush_posted_ = true;
        post([self = shared_from_this()] { self->flush_staged(); });
    }
}

void hub::flush_staged() {
    flush_posted_ = false;
    auto ended = std::make_shared<std::vector<std::pair<std::string, std::int64_t>>>();
    for (const auto& id : ended_jobs_)
        if (auto* job = find_job(id)) {
            staged_.jobs.push_back(*job);
            if (core::is_terminal(job->state)) ended->emplace_back(id, job->version);
        }
    ended_jobs_.clear();
    if (stopping_) stage_dirty_jobs(dirty_jobs_.size());
    if (!dirty_jobs_.empty() && !projection_timer_) {
        projection_timer_ = true;
        deadlines_->after(projection_tick_ms, [this] {
            projection_timer_ = false;
            stage_dirty_jobs(projection_rows_per_tick);
            persist({}, nullptr);
        });
    }
    for (const auto& id : dirty_agents_)
        if (auto it = agents_.find(id); it != agents_.end()) staged_.agents.push_back(it->second->rec);
    dirty_agents_.clear();
    if (staged_.empty() && staged_callbacks_.empty()) return;
    auto callbacks = std::make_shared<std::vector<std::function<void()>>>(std::move(staged_callbacks_));
    staged_callbacks_.clear();
    store::write_batch batch = std::move(staged_);
    staged_ = {};
    if (opts_.shared_store) batch.refused = std::make_shared<std::vector<store::refused_event>>();
    try {
        auto refused = batch.refused;
        store_.submit(std::move(batch), [self = shared_from_this(), callbacks, ended, refused](std::exception_ptr err) {
            boost::asio::post(self->strand_, [self, callbacks, ended, err, refused] {
                if (err) {
                    try {
                        std::rethrow_exception(err);
                    } catch (const std::exception& e) {
                        self->fail_fatally(e.what());
                    }
                    return;
                }
                // Another hub got there first: memory follows the log before anything acts on it.
                if (refused && !refused->empty())
                    guarded([&] { self->handle_refused(*refused); }, [] { return "refused events"; });
                for (auto& cb : *callbacks) guarded(cb, [] { return "a callback after a commit"; });
                if (refused) self->superseded_.clear();
                for (auto& l : self->commit_listeners_) guarded(l, [] { return "a commit listener"; });
                if (!ended->empty())  // their rows are durable
                    guarded([&] { self->rows_committed(std::move(*ended)); }, [] { return "pruning finished jobs"; });
            });
        });
    } catch (const std::exception& e) {
        fail_fatally(e.what());
    }
}

void hub::record(core::job_record& job, std::string_view type, core::json data, store::write_batch& batch) {
    auto e = core::make_job_event(job, type, std::move(data), clock_.now_ms());
    const bool fresh = job.version == 0;
    const auto before = job.state;
    try {
        core::apply(job, e);  // the transition table decides; a refused event changes nothing
    } catch (const core::error& err) {
        hub_log("refused to record: " + std::string(err.what()));
        throw;
    }
    recorded(job, fresh, before, std::move(e), batch);
}

void hub::recorded(core::job_record& job, bool fresh, core::job_state before, core::event e, store::write_batch& batch) {
    // Encoded here, not on the store's writer thread: that one thread is the serial resource.
    core::json::to_msgpack(e.data, e.packed);
    e.data = nullptr;
    batch.events.push_back(std::move(e));
    if (!fresh) --state_counts_[static_cast<std::size_t>(before)];
    ++state_counts_[static_cast<std::size_t>(job.state)];
    if (job.state == core::job_state::assigned && job.attempt == 1)  // retries wait out a backoff first
        dispatch_latency_.add(job.assigned_ms - job.created_ms);
    if (!core::is_terminal(job.state)) {
        dirty_jobs_.insert(job.id);
        return;
    }
    if (!core::is_terminal(before) && job.started_ms > 0) job_duration_.add(job.finished_ms - job.started_ms);
    dirty_jobs_.erase(job.id);
    ended_jobs_.push_back(job.id);
}

void hub::stage_dirty_jobs(std::size_t limit) {
    for (auto it = dirty_jobs_.begin(); it != dirty_jobs_.end() && limit > 0; --limit) {
        if (auto* job = find_job(*it)) staged_.jobs.push_back(*job);
        it = dirty_jobs_.erase(it);
    }
}

void hub::fail_fatally(const std::string& what) {
    if (stopping_) return;
    hub_log("error: the store could not commit: " + what +
            "; stopping the hub so nothing unrecorded is acknowledged (check disk space and the data dir)");
    stopping_ = true;
    failed_ = true;
    io_.stop();
}

void hub::schedule_dispatch() {
    if (dispatch_posted_ || stopping_) return;
    dispatch_posted_ = true;
    post([self = shared_from_this()] {
        self->dispatch_posted_ = false;
        self->dispatch();
    });
}

void hub::dispatch() {
    if (dispatcher_.size() == 0) return;
    std::vector<agent_view> views;
    std::int64_t now = clock_.now_ms();
    for (auto& [id, a] : agents_) {
        if (!a->peer || circuit_breaker::is_open(a->rec, now) || draining(id)) continue;
        views.push_back({&a->rec, &a->handlers, static_cast<int>(a->jobs.size())});
    }
    if (views.empty()) return;
    std::int64_t steady = clock_.steady_ms();
    auto choices = dispatcher_.match(
        views, now, [this](const std::string& id) -> const core::job_record* { return find_job(id); },
        [this, steady](const std::string& job, const std::string& agent) {
            auto it = exclusions_.find(job);
            return it != exclusions_.end() && it->second.first == agent && it->second.second > steady;
        });
    if (opts_.shared_store) claim_foreign(choices);
    if (choices.empty()) return;
    store::write_batch batch;
    auto sends = std::make_shared<std::vector<std::pair<std::string, int>>>();
    for (const auto& c : choices) {
        auto* job = find_job(c.job_id);
        auto& agent = *agents_.at(c.agent_id);
        if (opts_.shared_store) unassigned_.insert_or_assign(job->id, *job);  // to go back to if the fence refuses it
        record(*job, core::job_event::assigned,
               {{"attempt", job->attempt + 1}, {"agent_id", agent.rec.id}, {"agent_name", agent.rec.name}}, batch);
        agent.jobs.insert(job->id);
        agent.rec.running = static_cast<int>(agent.jobs.size());
        sends->emplace_back(job->id, job->attempt);
    }
    // Commit the assignment before sending it (ARCHITECTURE.md: pitfalls).
    persist(std::move(batch), [this, sends] {
        for (const auto& [id, attempt] : *sends) {
            unassigned_.erase(id);
            send_assign(id, attempt);
        }
    });
}

void hub::periodic_check() {
    if (stopping_) return;
    std::int64_t steady = clock_.steady_ms();
    std::vector<std::shared_ptr<transport::mesh_peer>> silent;
    for (auto& [id, a] : agents_)
        if (a->peer && steady - a->last_seen_steady > 3 * opts_.heartbeat_ms) silent.push_back(a->peer);
    for (auto& peer : silent) {
        // Three missed heartbeats: treat as lost now rather than waiting for TCP to notice.
        peer->close(core::protocol::close_going_away, "missed 3 heartbeats");
        on_close(peer, "missed 3 heartbeats");
    }
    std::int64_t now = clock_.now_ms();
    for (auto it = idempotency_.begin(); it != idempotency_.end();)
        it = now - it->second.second > opts_.idempotency_window_ms ? idempotency_.erase(it) : std::next(it);
    for (auto it = exclusions_.begin(); it != exclusions_.end();)
        it = it->second.second < steady ? exclusions_.erase(it) : std::next(it);
    schedule_dispatch();  // agents whose circuit breaker closed again, retries whose backoff ended
    deadlines_->after(opts_.heartbeat_ms, [this] { periodic_check(); });
}

void hub::shutdown() {
    post([self = shared_from_this()] {
        self->stopping_ = true;
        self->deadlines_->clear();
        core::error gone(core::error_kind::unavailable, "the hub is shutting down; retry against the restarted hub");
        for (auto& w : self->job_waiters_.drain()) w.reply({{}, gone});
        for (auto& w : self->log_waiters_.drain()) w.reply({{}, gone});
        for (auto& c : self->calls_.drain()) c.reply({{}, gone});
        self->take_snapshot();  // with every lagging row: the next start folds nothing before it
    });
}

void hub::post(std::function<void()> fn) {
    boost::asio::post(strand_, [fn = std::move(fn)] { guarded(fn, [] { return "a task on the hub strand"; }); });
}

}  // namespace orbitmesh::engine
