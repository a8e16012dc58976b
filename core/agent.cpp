#include "core/agent.hpp"

#include "core/clock.hpp"

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
    agent_record a;
    a.id = j.at("id").get<std::string>();
    a.name = j.value("name", std::string{});
    a.tags = j.value("tags", std::map<std::string, std::string>{});
    a.capabilities = j.value("capabilities", std::vector<std::string>{});
    a.concurrency = j.value("concurrency", 1);
    a.version = j.value("version", std::string{});
    a.state = j.value("state", std::string{}) == "connected" ? agent_state::connected : agent_state::disconnected;
    a.running = j.value("running", 0);
    if (auto it = j.find("load"); it != j.end() && it->is_object()) {
        a.cpu = it->value("cpu", 0.0);
        a.mem = it->value("mem", 0.0);
    }
    a.consecutive_failures = j.value("consecutive_failures", 0);
    if (auto it = j.find("times"); it != j.end() && it->is_object()) {
        a.connected_ms = it->value("connected", std::int64_t{0});
        a.last_seen_ms = it->value("last_seen", std::int64_t{0});
        a.breaker_until_ms = it->value("breaker_until", std::int64_t{0});
    }
    return a;
}

}  // namespace orbitmesh::core
