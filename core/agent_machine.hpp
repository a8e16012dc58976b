#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/agent.hpp"
#include "core/event.hpp"

namespace orbitmesh::core {

/// Event types of an agent stream ("agent-<id>"); data: {name, tags, capabilities, concurrency,
/// version} and, on a disconnect, the `reason`.
namespace agent_event {
inline constexpr std::string_view connected = "agent.connected";
inline constexpr std::string_view disconnected = "agent.disconnected";
}  // namespace agent_event

enum class agent_event_kind : std::uint8_t { connected, disconnected };
std::optional<agent_event_kind> parse_agent_event_kind(std::string_view type) noexcept;

/// One allowed step of the agent state machine; `from` nullopt: the hub never saw the agent.
struct agent_transition {
    std::optional<agent_state> from;
    agent_event_kind event;
    agent_state to;
};

/// The table: an agent connects, and a connected one disconnects or connects again (a newer
/// connection replaced the old one). A disconnect of an agent not connected is illegal.
std::span<const agent_transition> agent_transitions() noexcept;
bool agent_transition_allowed(std::optional<agent_state> from, agent_event_kind event) noexcept;

/// An agent as its events describe it: the profile of its latest event, the state its type says.
struct agent_history {
    std::string id;
    std::string name;
    std::map<std::string, std::string> tags;
    std::vector<std::string> capabilities;
    int concurrency = 1;
    std::string version;
    agent_state state = agent_state::disconnected;
    std::string reason;          // of the latest disconnect
    std::int64_t events = 0;     // the stream's version
    std::int64_t connected_ms = 0;
    std::int64_t updated_ms = 0;
};

/// Folds one agent event (live or on replay). Throws core::error{conflict} for a transition the
/// table refuses or data it cannot read, leaving `a` untouched.
void apply(agent_history& a, const event& e);

/// The projection row's record of an agent as the events know it (live fields zeroed).
agent_record to_record(const agent_history& a);

}  // namespace orbitmesh::core
