#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.hpp"

namespace orbitmesh::core {

enum class agent_state { connected, disconnected };
std::string_view to_string(agent_state s) noexcept;

/// An agent as the hub knows it (the registry's record; also the `agents` projection row).
struct agent_record {
    std::string id;
    std::string name;
    std::map<std::string, std::string> tags;
    std::vector<std::string> capabilities;  // includes the handler names it offers
    int concurrency = 1;
    std::string version;
    agent_state state = agent_state::disconnected;
    int running = 0;  // jobs it holds now
    double cpu = 0, mem = 0;
    std::int64_t connected_ms = 0;
    std::int64_t last_seen_ms = 0;
    int consecutive_failures = 0;     // infrastructure failures in a row (circuit breaker)
    std::int64_t breaker_until_ms = 0;  // out of rotation until then
};

json to_json(const agent_record& a);
agent_record agent_record_from_json(const json& j);

}  // namespace orbitmesh::core
