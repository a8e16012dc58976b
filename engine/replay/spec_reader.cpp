#include "engine/replay/spec_reader.hpp"

#include <cstdint>
#include <initializer_list>
#include <string_view>

namespace orbitmesh::engine::replay {

namespace {

using core::mp_value;
using kind = mp_value::kind;

bool one_of(std::string_view s, std::initializer_list<std::string_view> names) {
    for (auto n : names)
        if (s == n) return true;
    return false;
}

bool int_in(const std::optional<mp_value>& v, std::int64_t lo, std::int64_t hi) {
    return v && v->type() == kind::integer && v->as_int() >= lo && v->as_int() <= hi;
}

/// Walks retries; returns its end and whether it has the hub's shape.
const std::uint8_t* walk_retries(const mp_value& r, bool& plain) {
    if (!r.is_map()) return nullptr;
    int n = 0;
    bool ok = r.size() == 3;
    const auto* end = r.walk_entries([&](std::string_view k, const mp_value& v) -> const std::uint8_t* {
        n += k == "backoff_ms" || k == "max" || k == "max_delay_ms";
        ok = ok && v.type() == kind::integer && v.as_int() >= 0 && (k != "max" || v.as_int() <= 1000);
        return nullptr;
    });
    plain = ok && n == 3;
    return end;
}

const std::uint8_t* walk_target(const mp_value& t, bool& plain) {
    if (!t.is_map()) return nullptr;
    int n = 0;
    bool ok = t.size() == 3;
    const auto* end = t.walk_entries([&](std::string_view k, const mp_value& v) -> const std::uint8_t* {
        ++n;
        if (k == "agent") {
            ok = ok && v.is_string();
        } else if (k == "capabilities") {
            ok = ok && v.is_array();
            if (ok) v.for_each_element([&](const mp_value& c) { ok = ok && c.is_string(); });
        } else if (k == "tags") {
            ok = ok && v.is_map();
            if (ok) return v.walk_entries([&](std::string_view, const mp_value& x) -> const std::uint8_t* {
                ok = ok && x.is_string();
                return nullptr;
            });
        } else {
            ok = false;
        }
        return nullptr;
    });
    plain = ok && n == 3;
    return end;
}

}  // namespace

spec_view read_spec(const mp_value& spec) {
    spec_view v;
    if (!spec.is_map()) {
        v.unknown = true;
        return v;
    }
    v.end = spec.walk_entries([&v](std::string_view k, const mp_value& x) -> const std::uint8_t* {
        if (k == "retries") {
            const auto* end = walk_retries(x, v.retries_plain);
            v.retries = end ? x.ending_at(end) : x;
            return end;
        }
        if (k == "target") {
            const auto* end = walk_target(x, v.target_plain);
            v.target = end ? x.ending_at(end) : x;
            return end;
        }
        if (k == "command") v.command = x;
        else if (k == "payload") v.payload = x;
        else if (k == "idempotency_key") v.idempotency_key = x;
        else if (k == "mode") v.mode = x;
        else if (k == "on_agent_lost") v.on_agent_lost = x;
        else if (k == "priority") v.priority = x;
        else if (k == "timeout_ms") v.timeout_ms = x;
        else if (k == "trace") v.trace = x;
        else v.unknown = true;
        return nullptr;
    });
    return v;
}

bool plain_spec(const spec_view& s) {
    if (s.unknown || !s.command || !s.command->is_string() || !s.payload) return false;
    const auto c = s.command->as_string();
    if (c.empty() || c.size() > 128 || c.find(':') != std::string_view::npos) return false;
    if (!s.idempotency_key || !s.idempotency_key->is_string() || s.idempotency_key->as_string().size() > 512) return false;
    if (!s.mode || !s.mode->is_string() ||
        !one_of(s.mode->as_string(), {"request_response", "fire_and_forget", "streaming", "long_running"}))
        return false;
    if (!s.on_agent_lost || !s.on_agent_lost->is_string() || !one_of(s.on_agent_lost->as_string(), {"reassign", "wait", "fail"}))
        return false;
    if (!int_in(s.priority, -2147483648LL, 2147483647LL) || !int_in(s.timeout_ms, 0, INT64_MAX)) return false;
    if (s.trace && (!s.trace->is_string() || s.trace->as_string().empty())) return false;
    return s.retries && s.retries_plain && s.target && s.target_plain;
}

std::array<std::uint32_t, 10> field_offsets(const spec_view& s, std::span<const std::uint8_t> raw) {
    // The start of a value is where its header is: no walk needed.
    auto at = [&raw](const std::optional<mp_value>& v) {
        return v ? static_cast<std::uint32_t>(v->start() - raw.data()) + 1 : 0u;
    };
    return {at(s.command), at(s.idempotency_key), at(s.mode),     at(s.on_agent_lost), at(s.payload),
            at(s.priority), at(s.retries),        at(s.target),   at(s.timeout_ms),    at(s.trace)};
}

spec_view view_at(std::span<const std::uint8_t> raw, const std::array<std::uint32_t, 10>& offsets) {
    spec_view v;
    auto at = [&](std::size_t i) -> std::optional<mp_value> {
        const auto o = offsets[i];
        if (o == 0) return std::nullopt;
        return mp_value(raw.subspan(o - 1));
    };
    v.command = at(0);
    v.idempotency_key = at(1);
    v.mode = at(2);
    v.on_agent_lost = at(3);
    v.payload = at(4);
    v.priority = at(5);
    v.retries = at(6);
    v.target = at(7);
    v.timeout_ms = at(8);
    v.trace = at(9);
    return v;
}

}  // namespace orbitmesh::engine::replay
