#include "engine/replay/log_state.hpp"

#include <algorithm>
#include <exception>
#include <thread>

#include "core/error.hpp"
#include "core/msgpack_view.hpp"
#include "core/run_events.hpp"

namespace orbitmesh::engine::replay {

namespace {

bool has_prefix(std::string_view s, std::string_view p) { return s.compare(0, p.size(), p) == 0; }

void tally(std::size_t& events, std::int64_t& first_seq, std::int64_t& last_seq, kind_stats& s, const core::event_view& e) {
    ++events;
    if (first_seq == 0 || e.seq < first_seq) first_seq = e.seq;
    if (e.seq > last_seq) last_seq = e.seq;
    ++s.events;
    if (s.first_ms == 0 || e.time_ms < s.first_ms) s.first_ms = e.time_ms;
    if (e.time_ms > s.last_ms) s.last_ms = e.time_ms;
}

void add_stats(kind_stats& mine, const kind_stats& s) {
    mine.events += s.events;
    if (mine.first_ms == 0 || (s.first_ms != 0 && s.first_ms < mine.first_ms)) mine.first_ms = s.first_ms;
    if (s.last_ms > mine.last_ms) mine.last_ms = s.last_ms;
}

}  // namespace

stream_kind kind_of(std::string_view stream) noexcept {
    if (has_prefix(stream, "job-")) return stream_kind::job;
    if (has_prefix(stream, "run-")) return stream_kind::run;
    if (has_prefix(stream, "agent-")) return stream_kind::agent;
    if (has_prefix(stream, "workflow-")) return stream_kind::workflow;
    return stream_kind::other;
}

std::string_view to_string(stream_kind k) noexcept {
    switch (k) {
    case stream_kind::job: return "job";
    case stream_kind::agent: return "agent";
    case stream_kind::run: return "run";
    case stream_kind::workflow: return "workflow";
    default: return "other";
    }
}

std::uint32_t log_state::slot_of(std::string_view id) const {
    return index_.find(id, [this](std::uint32_t i) { return jobs_[i].id; });
}

void log_state::prefetch(const core::event_view& e) const noexcept {
    if (e.stream.size() > 4 && e.stream.compare(0, 4, "job-") == 0) index_.prefetch(e.stream.substr(4));
}

void log_state::prefetch_slot(const core::event_view& e) const noexcept {
    if (e.stream.size() <= 4 || e.stream.compare(0, 4, "job-") != 0) return;
    const auto i = index_.candidate(e.stream.substr(4));
    if (i == slot_index::none) return;
    const auto* p = reinterpret_cast<const char*>(&jobs_[i]);
    __builtin_prefetch(p);
    __builtin_prefetch(p + 64);
}

const job_slot* log_state::find_job(std::string_view id) const {
    const auto i = slot_of(id);
    return i == slot_index::none ? nullptr : &jobs_[i];
}

std::map<stream_kind, kind_stats> log_state::kinds() const {
    std::map<stream_kind, kind_stats> out;
    for (std::size_t i = 0; i < kinds_.size(); ++i) out[static_cast<stream_kind>(i)] = kinds_[i];
    out[stream_kind::job].streams = jobs_.size();
    out[stream_kind::agent].streams = agents.size();
    out[stream_kind::run].streams = runs.size();
    out[stream_kind::workflow].streams = workflows.size();
    out[stream_kind::other].streams = other_streams_.size();
    for (auto it = out.begin(); it != out.end();) it = it->second.events == 0 ? out.erase(it) : std::next(it);
    return out;
}

std::map<core::job_state, std::size_t> log_state::job_counts() const {
    std::map<core::job_state, std::size_t> out;
    for (const auto& j : jobs_) ++out[j.state];
    return out;
}

void log_state::reserve(std::size_t expected) {
    jobs_.reserve(expected / 4 + 16);
    index_.reserve(expected / 4 + 16);
}

void log_state::count(const core::event_view& e, stream_kind k) {
    tally(events, first_seq, last_seq, kinds_[static_cast<std::size_t>(k)], e);
}

std::size_t log_state::partition_of(std::string_view job_id, std::size_t partitions) noexcept {
    // The high bits: the index's probes use the low ones.
    return partitions <= 1 ? 0 : static_cast<std::size_t>((slot_index::hash(job_id) >> 40) % partitions);
}

void log_state::refuse(const core::event_view& e, const std::string& why) {
    ++refused_count;
    if (refused.size() < max_refused) refused.push_back({e.seq, std::string(e.stream), std::string(e.type), why});
}

// A range that starts mid-log cannot fold a stream it did not see begin: it keeps the event (in
// its arena) for merge(), where the states before it know how the stream began.
bool log_state::defer(const core::event_view& e, bool known) {
    if (!deferring_ || known || e.version == 1) return false;
    const deferred d{e.seq, e.version, e.time_ms, mem_.keep(e.stream), mem_.keep(e.type), mem_.keep(e.data)};
    if (kind_of(e.stream) == stream_kind::job) deferred_jobs_[partition_of(e.stream.substr(4), deferred_jobs_.size())].push_back(d);
    else deferred_other_.push_back(d);
    return true;
}

void log_state::fold(const core::event_view& e) {
    const auto k = kind_of(e.stream);
    if (k == stream_kind::job) return fold_job(e);
    fold_other(e, k);
}

void log_state::fold_job(const core::event_view& e) {
    const std::string_view id = e.stream.substr(4);
    std::uint32_t i = slot_of(id);
    if (defer(e, i != slot_index::none)) return;
    count(e, stream_kind::job);
    try {
        if (i != slot_index::none) {
            replay::fold(jobs_[i], e, mem_);
            return;
        }
        job_slot fresh;
        replay::fold(fresh, e, mem_);
        if (fresh.id != id) throw core::error(core::error_kind::conflict, "job " + std::string(id) + ": job.submitted names another id, " + std::string(fresh.id));
        jobs_.push_back(fresh);
        index_.insert(jobs_.back().id, static_cast<std::uint32_t>(jobs_.size() - 1));
        if (!fresh.idempotency_key.empty()) {
            auto& entry = keys[{"job", std::string(fresh.idempotency_key)}];
            if (e.seq > entry.seq) entry = {std::string(id), e.time_ms, e.seq};
        }
    } catch (const core::error& err) {
        refuse(e, err.what());
    }
}

void log_state::fold_other(const core::event_view& e, stream_kind k) {
    const std::string_view name = e.stream.substr(e.stream.find('-') + 1);
    try {
        if (k == stream_kind::agent) {
            auto it = agents.find(name);
            if (defer(e, it != agents.end())) return;
            count(e, k);
            const bool fresh = it == agents.end();
            if (fresh) it = agents.emplace(std::string(name), core::agent_history{}).first;
            it->second.id = it->first;
            try {
                core::apply(it->second, core::to_event(e));  // leaves the history as it was when it throws
            } catch (...) {
                if (fresh) agents.erase(it);
                throw;
            }
        } else if (k == stream_kind::run) {
            auto it = runs.find(name);
            if (defer(e, it != runs.end())) return;
            count(e, k);
            const bool fresh = it == runs.end();
            if (fresh) it = runs.emplace(std::string(name), core::run_record{}).first;
            const auto ev = core::to_event(e);
            try {
                core::apply(it->second, ev);  // in place: a run has many events, copying it per event is quadratic
            } catch (...) {
                if (fresh) runs.erase(it);
                throw;
            }
            const auto& r = it->second;
            if (ev.type == core::run_event::started && !r.idempotency_key.empty()) {
                auto& entry = keys[{"run", r.idempotency_key}];
                if (e.seq > entry.seq) entry = {r.id, e.time_ms, e.seq};
            }
        } else if (k == stream_kind::workflow) {
            count(e, k);
            const auto ev = core::to_event(e);
            if (ev.type != "workflow.registered") throw core::error(core::error_kind::conflict, "workflow " + std::string(name) + ": unknown event type " + ev.type);
            workflows[std::string(name)].push_back(ev.data.value("version", std::string{}));
        } else {
            count(e, k);
            other_streams_.insert(std::string(e.stream));
        }
    } catch (const core::error& err) {
        refuse(e, err.what());
    } catch (const core::json::exception& err) {
        refuse(e, std::string("unreadable data: ") + err.what());
    }
}

/// What one thread keeps apart while it folds deferred events into the jobs of a state beside
/// other threads: counts, refusals and copies of its own; the slots it changes are its alone.
struct log_state::side {
    std::size_t events = 0;
    std::int64_t first_seq = 0, last_seq = 0;
    kind_stats jobs{};
    std::vector<refused_event> refused;  // the first max_refused by seq
    std::size_t refused_count = 0;
    arena mem;
    std::vector<const deferred*> unknown;  // events of jobs this state does not have (yet)
    std::exception_ptr error;
};

// The path of fold_job for a job the state has, with the side's counters and arena: it reads
// the index and writes only the slots of this list's jobs.
void log_state::fold_known_jobs(const std::vector<deferred>& list, side& out) {
    constexpr std::size_t ahead = 8;  // index entries loading while earlier events fold
    for (std::size_t k = 0; k < list.size(); ++k) {
        if (k + ahead < list.size()) index_.prefetch(list[k + ahead].stream.substr(4));
        const auto& d = list[k];
        const std::uint32_t i = slot_of(d.stream.substr(4));
        if (i == slot_index::none) {
            out.unknown.push_back(&d);
            continue;
        }
        const core::event_view e{d.seq, d.stream, d.version, d.type, d.data, d.time_ms};
        tally(out.events, out.first_seq, out.last_seq, out.jobs, e);
        try {
            replay::fold(jobs_[i], e, out.mem);
        } catch (const core::error& err) {
            ++out.refused_count;
            if (out.refused.size() < max_refused) out.refused.push_back({e.seq, std::string(e.stream), std::string(e.type), err.what()});
        }
    }
}

void log_state::merge(log_state&& later) {
    // Streams that began in the later range are its own: move them over.
    jobs_.reserve(jobs_.size() + later.jobs_.size());
    for (auto& slot : later.jobs_) {
        jobs_.push_back(slot);
        index_.insert(jobs_.back().id, static_cast<std::uint32_t>(jobs_.size() - 1));
    }
    for (auto& [id, a] : later.agents) agents.insert_or_assign(id, std::move(a));
    for (auto& [id, r] : later.runs) runs.insert_or_assign(id, std::move(r));
    for (auto& [id, versions] : later.workflows) {
        auto& mine = workflows[id];
        mine.insert(mine.end(), versions.begin(), versions.end());
    }
    for (auto& [k, entry] : later.keys) {
        auto& mine = keys[k];
        if (entry.seq > mine.seq) mine = std::move(entry);
    }
    for (auto& r : later.refused)
        if (refused.size() < max_refused) refused.push_back(std::move(r));
    refused_count += later.refused_count;
    for (std::size_t k = 0; k < kinds_.size(); ++k) add_stats(kinds_[k], later.kinds_[k]);
    other_streams_.merge(later.other_streams_);
    events += later.events;
    if (first_seq == 0 || (later.first_seq != 0 && later.first_seq < first_seq)) first_seq = later.first_seq;
    if (later.last_seq > last_seq) last_seq = later.last_seq;
    fold_deferred(later);
    mems_.push_back(std::move(later.mem_));
    for (auto& m : later.mems_) mems_.push_back(std::move(m));
}

// Then the events of streams that began before the later range, as if folded in one pass: each
// stream's events stay in seq order, and streams do not depend on one another.
void log_state::fold_deferred(log_state& later) {
    const std::size_t parts = later.deferred_jobs_.size();
    std::vector<side> sides(parts);
    {
        std::vector<std::thread> helpers;
        for (std::size_t p = 1; p < parts; ++p)
            if (!later.deferred_jobs_[p].empty())
                helpers.emplace_back([this, &later, &sides, p] {
                    try {
                        fold_known_jobs(later.deferred_jobs_[p], sides[p]);
                    } catch (...) {
                        sides[p].error = std::current_exception();
                    }
                });
        try {
            fold_known_jobs(later.deferred_jobs_[0], sides[0]);
        } catch (...) {
            sides[0].error = std::current_exception();
        }
        for (auto& t : helpers) t.join();
    }
    for (const auto& s : sides)
        if (s.error) std::rethrow_exception(s.error);
    // The rest (agents, runs, jobs this state has not seen begin) here, in seq order.
    std::vector<const deferred*> rest;
    for (const auto& d : later.deferred_other_) rest.push_back(&d);
    for (const auto& s : sides) rest.insert(rest.end(), s.unknown.begin(), s.unknown.end());
    std::sort(rest.begin(), rest.end(), [](const deferred* a, const deferred* b) { return a->seq < b->seq; });
    std::vector<refused_event> before;
    before.swap(refused);  // refusals of this phase come back in seq order below, as one pass makes them
    for (const auto* d : rest) fold(core::event_view{d->seq, d->stream, d->version, d->type, d->data, d->time_ms});
    for (auto& s : sides) {
        events += s.events;
        if (s.events > 0 && (first_seq == 0 || s.first_seq < first_seq)) first_seq = s.first_seq;
        if (s.last_seq > last_seq) last_seq = s.last_seq;
        add_stats(kinds_[static_cast<std::size_t>(stream_kind::job)], s.jobs);
        refused_count += s.refused_count;
        refused.insert(refused.end(), std::make_move_iterator(s.refused.begin()), std::make_move_iterator(s.refused.end()));
        mems_.push_back(std::move(s.mem));
    }
    std::stable_sort(refused.begin(), refused.end(), [](const auto& a, const auto& b) { return a.seq < b.seq; });
    for (auto& r : refused)
        if (before.size() < max_refused) before.push_back(std::move(r));
    refused = std::move(before);
}

}  // namespace orbitmesh::engine::replay
