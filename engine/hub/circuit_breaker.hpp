#pragma once
#include <cstdint>

#include "core/agent.hpp"

namespace orbitmesh::engine {

/// The agents' circuit breaker (SPEC §3): `threshold` infrastructure failures in a row (no ACK, a
/// NACK that is not busy/draining, a result without an exit code) take an agent out of rotation
/// for `cooldown_ms`; any success resets the count. Its state lives in the agent's record
/// (`consecutive_failures`, `breaker_until_ms`), which status shows. Plain value; not thread-safe.
class circuit_breaker {
public:
    circuit_breaker(int threshold, std::int64_t cooldown_ms) : threshold_(threshold), cooldown_ms_(cooldown_ms) {}

    /// Counts one failure at `now_ms`; true when this one opened the breaker (the count restarts).
    bool failure(core::agent_record& a, std::int64_t now_ms) const noexcept {
        if (++a.consecutive_failures < threshold_) return false;
        a.consecutive_failures = 0;
        a.breaker_until_ms = now_ms + cooldown_ms_;
        return true;
    }
    static void success(core::agent_record& a) noexcept { a.consecutive_failures = 0; }
    /// True while the agent is out of rotation.
    static bool is_open(const core::agent_record& a, std::int64_t now_ms) noexcept { return a.breaker_until_ms > now_ms; }

    int threshold() const noexcept { return threshold_; }
    std::int64_t cooldown_ms() const noexcept { return cooldown_ms_; }

private:
    int threshold_;
    std::int64_t cooldown_ms_;
};

}  // namespace orbitmesh::engine
