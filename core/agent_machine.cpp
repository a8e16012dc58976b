#include "core/agent_machine.hpp"

#include "core/error.hpp"

namespace orbitmesh::core {

namespace {

using as = agent_state;
using ak = agent_event_kind;

constexpr agent_transition agent_table[] = {
    {std::nullopt, ak::connected, as::connected},
    {as::disconnected, ak::connected, as::connected},
    {as::connected, ak::connected, as::connected},  // a newer connection replaced the old one
    {as::connected, ak::disconnected, as::disconnected},
};

[[noreturn]] void refuse(const agent_history& a, const event& e, const std::string& why) {
    throw error(error_kind::conflict, "agent " + a.id + ": event " + e.type + " " + why);
}

}  // namespace

std::optional<agent_event_kind> parse_agent_event_kind(std::string_view type) noexcept {
    if (type == agent_event::connected) return ak::connected;
    if (type == agent_event::disconnected) return ak::disconnected;
    return std::nullopt;
}

std::span<const agent_transition> agent_transitions() noexcept { return agent_table; }

bool agent_transition_allowed(std::optional<agent_state> from, agent_event_kind event) noexcept {
    for (const auto& t : agent_table)
        if (t.from == from && t.event == event) return true;
    return false;
}

void apply(agent_history& a, const event& e) {
    const auto kind = parse_agent_event_kind(e.type);
    if (!kind) refuse(a, e, "is not an agent event");
    const std::optional<agent_state> from = a.events == 0 ? std::nullopt : std::optional<agent_state>(a.state);
    if (!agent_transition_allowed(from, *kind))
        refuse(a, e, "is not allowed in state " + std::string(from ? to_string(*from) : "(none)"));
    agent_history next = a;
    try {
        const auto& d = e.data;
        if (d.is_object()) {
            next.name = d.value("name", next.name);
            next.tags = d.value("tags", next.tags);
            next.capabilities = d.value("capabilities", next.capabilities);
            next.concurrency = d.value("concurrency", next.concurrency);
            next.version = d.value("version", next.version);
            next.reason = *kind == ak::disconnected ? d.value("reason", std::string{}) : std::string{};
        }
    } catch (const json::exception& err) {
        refuse(a, e, std::string("has a field of the wrong type: ") + err.what());
    }
    next.state = *kind == ak::connected ? as::connected : as::disconnected;
    if (*kind == ak::connected) next.connected_ms = e.time_ms;
    next.events = e.version;
    next.updated_ms = e.time_ms;
    a = std::move(next);
}

agent_record to_record(const agent_history& a) {
    agent_record r;
    r.id = a.id;
    r.name = a.name;
    r.tags = a.tags;
    r.capabilities = a.capabilities;
    r.concurrency = a.concurrency;
    r.version = a.version;
    r.state = a.state;
    r.connected_ms = a.connected_ms;
    return r;
}

}  // namespace orbitmesh::core
