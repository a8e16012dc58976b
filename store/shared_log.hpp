#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/event.hpp"

namespace orbitmesh::store {

/// A hub sharing the store, as its last heartbeat says (the `hubs` table).
struct peer_hub {
    std::string id;
    std::string address;
    std::int64_t age_ms = 0;  // since its last heartbeat, by the database's clock
};

/// What one hub of a shared store (`serve --shared-store`, SPEC §10) learns of the others: the
/// events they append, and their heartbeats. The engine sees only this interface; the
/// PostgreSQL follower (store/postgres/follower.cpp) implements it with LISTEN/NOTIFY, a poll
/// fallback and a heartbeat row of its own, on one thread and connection of its own.
class shared_log {
public:
    struct options {
        std::string url;      // postgres://…
        std::string hub_id;   // this hub: its own events are not handed back
        std::string address;  // HOST:PORT agents and clients reach it at (for `hubs`)
        std::int64_t after_seq = 0;  // the last event this hub folded already
        std::int64_t poll_ms = 250;  // the fallback when a NOTIFY is lost
        std::int64_t heartbeat_ms = 1000;
        /// Other hubs' events with seq > after_seq, in seq order, on the follower's thread.
        std::function<void(std::vector<core::event>)> on_events;
        /// Every hub's row after each heartbeat, on the follower's thread.
        std::function<void(std::vector<peer_hub>)> on_hubs;
        /// Other hubs stored output of these jobs (all: of any job), after on_events of what
        /// they committed before it; on the follower's thread.
        std::function<void(std::vector<std::string> job_ids, bool all)> on_logs;
        /// A failure it retries (the connection dropped), for the log.
        std::function<void(const std::string&)> on_error;
    };
    /// Connects, writes the first heartbeat and starts following. Throws like event_store::open.
    static std::unique_ptr<shared_log> open(options opts);
    virtual ~shared_log() = default;
    /// Stops the thread (within one poll interval). Idempotent.
    virtual void stop() = 0;
};

}  // namespace orbitmesh::store
