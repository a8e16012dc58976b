#include "core/agent.hpp"

#include <limits>

#include "core/clock.hpp"
#include "core/field_reader.hpp"

namespace orbitmesh::core {

std::string_view to_string(agent_state s) noexcept {
    return s == agent_state::connected ? "connected" : "disconnected";
}

json to_json(const agent_record& a) {
    return json{
        {"id", a.id},
        {"name", a.name},
        {"tags", a.tags},
        {"capabilities", a.capabilities},
        {"concurrency", a.concurrency},
        {"version", a.version},
        {"state", to_string(a.state)},
        {"running", a.running},
        {"load", {{"cpu", a.cpu}, {"mem", a.mem}}},
        {"connected_at", format_time(a.connected_ms)},
        {"last_seen", format_time(a.last_seen_ms)},
        {"circuit", a.breaker_until_ms > now_ms() ? "open" : "closed"},
        {"consecutive_failures", a.consecutive_failures},
        {"times", {{"connected", a.connected_ms}, {"last_seen", a.last_seen_ms}, {"breaker_until", a.breaker_until_ms}}},
    };
}

agent_record agent_record_from_json(const json& j) {
    field_reader r(j, "agent record", error_kind::invalid_input);
    agent_record a;
    a.id = r.text("id");
    a.name = r.maybe_text("name").value_or(std::string{});
    if (auto tags = r.maybe_string_map("tags")) a.tags = std::move(*tags);
    if (auto caps = r.maybe_strings("capabilities")) a.capabilities = std::move(*caps);
    a.concurrency = static_cast<int>(r.maybe_integer("concurrency", 0, field_reader::int_max).value_or(1));
    a.version = r.maybe_text("version").value_or(std::string{});
    a.state = r.maybe_text("state").value_or(std::string{}) == "connected" ? agent_state::connected : agent_state::disconnected;
    a.running = static_cast<int>(r.maybe_integer("running", 0, field_reader::int_max).value_or(0));
    if (auto load = r.maybe_object("load")) {
        a.cpu = load->maybe_number("cpu", 0, 1e9).value_or(0);
        a.mem = load->maybe_number("mem", 0, 1e9).value_or(0);
    }
    a.consecutive_failures = static_cast<int>(r.maybe_integer("consecutive_failures", 0, field_reader::int_max).value_or(0));
    if (auto times = r.maybe_object("times")) {
        constexpr auto any_ms = std::numeric_limits<std::int64_t>::max();
        a.connected_ms = times->maybe_integer("connected", 0, any_ms).value_or(0);
        a.last_seen_ms = times->maybe_integer("last_seen", 0, any_ms).value_or(0);
        a.breaker_until_ms = times->maybe_integer("breaker_until", 0, any_ms).value_or(0);
    }
    return a;
}

}  // namespace orbitmesh::core
