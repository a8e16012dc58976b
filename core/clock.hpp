#pragma once
#include <atomic>
#include <cstdint>
#include <string>

namespace orbitmesh::core {

/// Where time comes from: the system's (clock::system()), or a manual_clock a test moves. Components
/// that decide by time (the hub: deadlines, backoffs, breakers, idempotency windows) take one, so
/// their tests run in microseconds instead of waiting. Implementations are thread-safe.
class clock {
public:
    virtual ~clock() = default;
    /// Wall-clock milliseconds since the Unix epoch; what events and records carry.
    virtual std::int64_t now_ms() const noexcept = 0;
    /// Monotonic milliseconds; for deadlines and durations.
    virtual std::int64_t steady_ms() const noexcept = 0;
    /// The real clock (what the free functions below read).
    static const clock& system() noexcept;
};

/// A clock that moves only when told, both readings together. Starts at the real time (so records
/// it stamps look ordinary), then never moves by itself. Thread-safe.
class manual_clock final : public clock {
public:
    manual_clock() noexcept;
    std::int64_t now_ms() const noexcept override { return wall_.load(); }
    std::int64_t steady_ms() const noexcept override { return steady_.load(); }
    /// Moves both readings forward by `ms` (negative values are ignored: time does not go back).
    void advance(std::int64_t ms) noexcept;

private:
    std::atomic<std::int64_t> wall_;
    std::atomic<std::int64_t> steady_;
};

/// The system clock's readings.
std::int64_t now_ms() noexcept;
std::int64_t steady_ms() noexcept;
/// ISO-8601 UTC text of a wall-clock time in ms ("2026-11-27T15:07:08.123Z").
std::string format_time(std::int64_t ms);

}  // namespace orbitmesh::core
