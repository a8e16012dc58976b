// Client events of a run (`GET /api/v1/runs/ID/events`) and requests held until something happens.
#include <algorithm>
#include <optional>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "engine/workflow/runner.hpp"

namespace orbitmesh::engine {

void runner::feed(live_run& r, core::json ev) {
    ev["seq"] = ++r.feed_seq;
    ev["run"] = r.rec.id;
    r.feed.push_back(std::move(ev));
    while (r.feed.size() > opts_.max_feed) r.feed.pop_front();
}

core::json runner::feed_reply(const live_run& r, std::int64_t after) const {
    core::json events = core::json::array();
    std::int64_t next = after;
    for (const auto& ev : r.feed) {
        auto seq = ev["seq"].get<std::int64_t>();
        if (seq <= after) continue;
        if (events.size() >= 1000) break;
        events.push_back(ev);
        next = seq;
    }
    bool done = core::is_terminal(r.rec.state) && next >= r.feed_seq;
    return {{"events", std::move(events)}, {"next", next}, {"state", core::to_json(r.rec)["state"]}, {"done", done}};
}

namespace {

/// The waiter holding `token`, taken out of `ws`, if nothing answered it before its deadline.
template <class Waiter>
std::optional<Waiter> take_waiter(std::vector<Waiter>& ws, std::uint64_t token) {
    auto it = std::find_if(ws.begin(), ws.end(), [&](const Waiter& w) { return w.token == token; });
    if (it == ws.end()) return std::nullopt;
    std::optional<Waiter> out(std::move(*it));
    ws.erase(it);
    return out;
}

}  // namespace

void runner::hold(std::vector<waiter>& list, std::int64_t after, std::int64_t wait_ms, const std::string& run_id,
                  bool feed_wait, api_reply reply) {
    if (list.size() >= opts_.max_waiters) {
        // Bounded: past the limit a request is answered at once and the client polls again.
        auto* r = find_live(run_id);
        return reply(200, feed_wait ? feed_reply(*r, after) : core::to_json(r->rec));
    }
    auto token = ++waiter_token_;
    list.push_back({token, after, std::move(reply)});
    std::weak_ptr<runner> weak = weak_from_this();
    port_.after(wait_ms, [weak, run_id, token, feed_wait] {
        auto self = weak.lock();
        auto* r = self ? self->find_live(run_id) : nullptr;
        if (!r) return;
        auto w = take_waiter(feed_wait ? r->feed_waiters : r->end_waiters, token);
        if (w) w->reply(200, feed_wait ? self->feed_reply(*r, w->after) : core::to_json(r->rec));
    });
}

void runner::run_events(const std::string& id, std::int64_t after, std::int64_t wait_ms, api_reply reply) {
    if (!find_live(id) && port_.shared_store())
        if (auto* f = load_from_log(id); f && !core::is_terminal(f->rec.state)) {
            // Driven by another hub: what the log holds now (the client polls for more).
            auto out = feed_reply(*f, after);
            drop_run(id);
            return reply(200, out);
        }
    auto* r = find_or_load(id);
    if (!r) throw core::error(core::error_kind::not_found, "run " + id + " not found (list runs with GET /api/v1/runs)");
    if (wait_ms <= 0 || after < r->feed_seq || core::is_terminal(r->rec.state)) return reply(200, feed_reply(*r, after));
    hold(r->feed_waiters, after, wait_ms, id, true, std::move(reply));
}

void runner::get_run(const std::string& id, std::int64_t wait_ms, api_reply reply) {
    if (!find_live(id) && port_.shared_store()) return get_foreign_run(id, wait_ms, std::move(reply));
    auto* r = find_live(id);
    if (!r)
        if (auto stored = port_.stored_run(id)) return reply(200, *stored);  // ended and left memory: its row
    if (!r) r = find_or_load(id);
    if (!r) throw core::error(core::error_kind::not_found, "run " + id + " not found (list runs with GET /api/v1/runs)");
    if (wait_ms <= 0 || core::is_terminal(r->rec.state)) return reply(200, core::to_json(r->rec));
    hold(r->end_waiters, 0, wait_ms, id, false, std::move(reply));
}

// Shared store: a run this hub does not drive is read from the log (its row may lag by a tick or
// not exist yet); `wait` holds the request until another hub's run.finished is folded here.
void runner::get_foreign_run(const std::string& id, std::int64_t wait_ms, api_reply reply) {
    auto ended = [](const core::json& r) {
        const auto state = core::parse_run_state(r.value("state", std::string{}));
        return state && core::is_terminal(*state);
    };
    if (auto row = port_.stored_run(id); row && ended(*row)) return reply(200, *row);  // its final row
    auto rec = foreign_record(id);
    if (!rec) throw core::error(core::error_kind::not_found, "run " + id + " not found (list runs with GET /api/v1/runs)");
    std::size_t held = 0;
    for (const auto& [run, ws] : foreign_waiters_) held += ws.size();
    if (wait_ms <= 0 || ended(*rec) || held >= opts_.max_waiters) return reply(200, *rec);
    auto token = ++waiter_token_;
    foreign_waiters_[id].push_back({token, 0, std::move(reply)});
    std::weak_ptr<runner> weak = weak_from_this();
    port_.after(wait_ms, [weak, id, token] {
        auto self = weak.lock();
        if (!self) return;
        auto it = self->foreign_waiters_.find(id);
        if (it == self->foreign_waiters_.end()) return;
        auto w = take_waiter(it->second, token);
        if (it->second.empty()) self->foreign_waiters_.erase(it);
        if (!w) return;
        auto now = self->foreign_record(id);
        w->reply(200, now ? *now : core::json{{"id", id}});
    });
}

void runner::foreign_run_ended(const std::string& id) {
    auto it = foreign_waiters_.find(id);
    if (it == foreign_waiters_.end()) return;
    auto ws = std::move(it->second);
    foreign_waiters_.erase(it);
    const auto rec = foreign_record(id);
    for (auto& w : ws) w.reply(200, rec ? *rec : core::json{{"id", id}});
}

core::json runner::list_runs(std::size_t limit, const std::string& state) const {
    std::map<std::string, core::json, std::greater<>> found;  // newest first (ids are time-ordered)
    for (auto it = runs_.rbegin(); it != runs_.rend() && found.size() < limit; ++it) {
        auto j = core::to_json(it->second.rec);
        if (!state.empty() && j["state"] != state) continue;
        found.emplace(it->first, std::move(j));
    }
    // Runs that ended and left memory are in the `runs` table; memory wins for the others.
    bool pruned = false;
    for (const auto& [st, n] : pruned_counts_) pruned = pruned || n > 0;
    if (pruned)
        for (auto& row : port_.stored_runs(limit, state)) found.try_emplace(row.value("id", std::string{}), std::move(row));
    core::json out = core::json::array();
    for (auto& [id, j] : found) {
        if (out.size() >= limit) break;
        out.push_back(std::move(j));
    }
    return {{"runs", std::move(out)}};
}

}  // namespace orbitmesh::engine
