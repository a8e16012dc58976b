#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>

namespace orbitmesh::engine {

/// Deadlines on the hub strand: `fn` runs there `delay_ms` from now by the hub's clock. There is no
/// cancellation: a callback re-checks whether it still matters when it fires. Not thread-safe:
/// call only on the strand. The hub's is timer_deadlines; tests drive their own.
class deadline_queue {
public:
    virtual ~deadline_queue() = default;
    /// Runs `fn` on the strand `delay_ms` from now (0 = as soon as possible).
    virtual void after(std::int64_t delay_ms, std::function<void()> fn) = 0;
    /// Drops every pending deadline (shutdown).
    virtual void clear() = 0;
    virtual std::size_t size() const = 0;
};

}  // namespace orbitmesh::engine
