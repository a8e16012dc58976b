#pragma once
// Private to the hub's .cpp files: the per-agent and per-connection state behind hub.hpp.
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "engine/hub/hub.hpp"

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
};

struct hub::job_waiter {
    std::uint64_t token = 0;
    job_reply reply;
};

struct hub::log_waiter {
    std::uint64_t token = 0;
    std::int64_t after = 0;
    std::size_t limit = 0;
    job_reply reply;
};

/// `agent-<id>`: the stream of an agent's connection events.
inline std::string agent_stream(const std::string& id) { return "agent-" + id; }

/// One stderr line from the hub (stdout stays for results).
void hub_log(const std::string& line);

}  // namespace orbitmesh::engine
