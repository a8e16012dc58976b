// Job output: lines streamed by agents, kept in memory while they are fresh, persisted in the
// store's job_logs table, and served to `job logs [-f]` readers (long-poll).
#include <algorithm>

#include "core/clock.hpp"
#include "engine/hub/attempt_fence.hpp"
#include "engine/hub/hub.hpp"
#include "engine/hub/hub_state.hpp"

namespace orbitmesh::engine {

namespace {

constexpr std::size_t max_recent_lines = 10'000;  // per job in memory; older ones come from the store
constexpr std::size_t max_line_bytes = 64 * 1024;

core::json line_json(const store::log_line& l) {
    return {{"seq", l.seq}, {"attempt", l.attempt}, {"stream", l.stream}, {"data", l.data}, {"time", core::format_time(l.time_ms)}};
}

}  // namespace

void hub::handle_output(agent_entry& a, core::protocol::output& m) {
    const auto& job_id = m.job_id;
    auto* job = find_job(job_id);
    if (!attempt_fence(m.attempt, a.rec.id).admits(job))
        return;  // output of a stale attempt is dropped like its result
    auto seq_it = log_seq_.find(job_id);
    if (seq_it == log_seq_.end()) {
        // First line this hub process sees for the job. Only a job from before this process
        // started can have lines in the store already: continue after them, and remember the
        // agent's seqs they had (rare, off the hot path).
        std::int64_t last = 0;
        if (job->created_ms < started_ms_)
            for (const auto& l : store_.load_logs(job_id, 0, 1u << 30)) {
                last = l.seq;
                auto& taken = agent_seq_[job_id];
                if (l.attempt == job->attempt && l.agent_seq > taken.second) taken = {l.attempt, l.agent_seq};
            }
        seq_it = log_seq_.emplace(job_id, last).first;
    }
    // After a reconnect the agent sends again every line the hub may have missed (it cannot know
    // which arrived): its own per-attempt seq tells the ones already taken.
    // Agents number an attempt's lines from 1; 0 is a line with no number of its own.
    const std::int64_t agent_seq = m.seq;
    if (agent_seq > 0) {
        auto& last = agent_seq_[job_id];
        if (last.first == job->attempt && agent_seq <= last.second) return;
        last = {job->attempt, agent_seq};
    }
    store::log_line line;
    line.job_id = job_id;
    line.attempt = job->attempt;
    line.seq = ++seq_it->second;
    line.stream = std::move(m.stream);
    line.data = std::move(m.data);
    if (const auto* mask = mask_for(*job)) mask->apply(line.data);  // agents mask too; never trust one
    if (line.data.size() > max_line_bytes) line.data.resize(max_line_bytes);
    line.time_ms = clock_.now_ms();
    line.agent_seq = agent_seq;
    auto& recent = recent_logs_[job_id];
    if (recent.size() >= max_recent_lines) recent.erase(recent.begin(), recent.begin() + max_recent_lines / 2);
    recent.push_back(line);
    for (auto& o : observers_) o->job_output(line);
    store::write_batch batch;
    batch.logs.push_back(std::move(line));
    persist(std::move(batch), nullptr);
    notify_logs(job_id);
}

core::json hub::logs_reply(const std::string& job_id, std::int64_t after, std::size_t limit) {
    core::json lines = core::json::array();
    std::int64_t next = after;
    auto it = recent_logs_.find(job_id);
    bool from_memory = it != recent_logs_.end() && !it->second.empty() && it->second.front().seq <= after + 1;
    if (from_memory) {
        for (const auto& l : it->second) {
            if (l.seq <= after) continue;
            if (lines.size() >= limit) break;
            lines.push_back(line_json(l));
            next = l.seq;
        }
    } else {
        for (const auto& l : store_.load_logs(job_id, after, limit)) {
            lines.push_back(line_json(l));
            next = l.seq;
        }
    }
    auto* job = find_job(job_id);
    bool terminal = job && core::is_terminal(job->state);
    bool more = lines.size() >= limit;
    return {{"lines", std::move(lines)},
            {"next", next},
            {"state", job ? core::to_string(job->state) : "unknown"},
            {"done", terminal && !more}};
}

void hub::job_logs(const std::string& id, std::int64_t after, std::int64_t wait_ms, std::size_t limit, job_reply request) {
    on_strand("job_logs", std::move(request), [self = shared_from_this(), id, after, wait_ms, limit](job_reply& reply) {
        auto* job = self->find_job(id);
        if (!job)
            return reply({{}, core::error(core::error_kind::not_found, "job " + id + " not found (list jobs with `orbitmesh job list`)")});
        auto out = self->logs_reply(id, after, limit);
        if (!out["lines"].empty() || out["done"].get<bool>() || core::is_terminal(job->state) || wait_ms <= 0 ||
            self->stopping_)
            return reply({std::move(out), std::nullopt});
        hold(self->log_waiters_, *self->deadlines_, id, log_waiter{after, limit, std::move(reply)}, wait_ms,
             [self, id](log_waiter w) { w.reply({self->logs_reply(id, w.after, w.limit), std::nullopt}); });
    });
}

void hub::notify_logs(const std::string& job_id) {
    if (!log_waiters_.contains(job_id)) return;
    for (auto& w : log_waiters_.take_all(job_id)) w.reply({logs_reply(job_id, w.after, w.limit), std::nullopt});
}

}  // namespace orbitmesh::engine
