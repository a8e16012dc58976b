#pragma once
// Private to the hub's .cpp files: the per-agent and per-connection state behind hub.hpp.
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "core/principal.hpp"
#include "engine/hub/hub.hpp"
#include "engine/hub/hub_log.hpp"
#include "engine/hub/strand_guard.hpp"

namespace orbitmesh::engine {

struct hub::agent_entry {
    core::agent_record rec;
    std::set<std::string> handlers;             // commands it offers (empty = unknown, accept any)
    std::shared_ptr<transport::mesh_peer> peer;  // null while disconnected
    std::set<std::string> jobs;                 // jobs in flight on it (assigned or running)
    std::int64_t version = 0;                   // events in its stream
    std::optional<core::agent_state> stream_state;  // what its last event says (nullopt: none yet)
    std::int64_t last_seen_steady = 0;
    std::uint64_t connection = 0;               // peer id of the current connection
};

struct hub::session {
    std::string agent_id;  // empty until hello
    core::principal who;   // what authenticated the upgrade (closed when its token is revoked)
    std::weak_ptr<transport::mesh_peer> peer;
};

/// A failed request's error: a core::error as itself, anything else as `internal` with context.
inline core::error request_error(const char* what, const std::exception& e) {
    if (const auto* known = dynamic_cast<const core::error*>(&e)) return *known;
    return core::error(core::error_kind::internal, std::string("internal error in ") + what + "; the hub logged the details");
}

inline void fail_request(hub::job_reply& reply, core::error e) { reply({{}, std::move(e)}); }
inline void fail_request(hub::submit_reply& reply, core::error e) { reply({{}, std::move(e)}, false); }

template <class Reply, class Fn>
void hub::on_strand(const char* what, Reply reply, Fn fn) {
    boost::asio::post(strand_, [what, reply = std::move(reply), fn = std::move(fn)]() mutable {
        auto fail = reply;  // fn may move `reply` into a waiter before it throws
        guarded([&] { fn(reply); }, [what] { return what; },
                [&](const std::exception& e) { fail_request(fail, request_error(what, e)); });
    });
}

/// Holds `w` in `list` under `key` until something takes it or `wait_ms` pass; then `expired(w)`
/// answers it. The one expiry of the hub's three kinds of held requests.
template <class W, class Expired>
void hold(waiter_list<W>& list, deadline_queue& deadlines, const std::string& key, W w, std::int64_t wait_ms,
          Expired expired) {
    auto token = list.add(key, std::move(w));
    deadlines.after(wait_ms, [&list, key, token, expired = std::move(expired)]() mutable {
        if (auto held = list.take(key, token)) expired(std::move(*held));
    });
}

/// `agent-<id>`: the stream of an agent's connection events.
inline std::string agent_stream(const std::string& id) { return "agent-" + id; }

}  // namespace orbitmesh::engine
