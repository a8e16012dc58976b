#include "engine/hub/timer_deadlines.hpp"

#include "engine/hub/strand_guard.hpp"

namespace orbitmesh::engine {

void timer_deadlines::after(std::int64_t delay_ms, std::function<void()> fn) {
    entries_.emplace(clock_.steady_ms() + std::max<std::int64_t>(0, delay_ms), std::move(fn));
    arm();
}

void timer_deadlines::clear() {
    entries_.clear();
    timer_.cancel();
    armed_for_ = 0;
}

void timer_deadlines::arm() {
    if (entries_.empty()) return;
    std::int64_t first = entries_.begin()->first;
    if (armed_for_ != 0 && armed_for_ <= first) return;  // already waking early enough
    armed_for_ = first;
    timer_.expires_after(std::chrono::milliseconds(std::max<std::int64_t>(0, first - clock_.steady_ms())));
    timer_.async_wait(boost::asio::bind_executor(strand_, [this](const boost::system::error_code& ec) {
        if (ec == boost::asio::error::operation_aborted) return;  // re-armed or cleared
        armed_for_ = 0;
        fire();
    }));
}

void timer_deadlines::fire() {
    std::int64_t now = clock_.steady_ms();
    // Bounded per wake-up so a flood of deadlines cannot starve the strand.
    for (int n = 0; n < 10'000 && !entries_.empty() && entries_.begin()->first <= now; ++n) {
        auto fn = std::move(entries_.begin()->second);
        entries_.erase(entries_.begin());
        guarded(fn, [] { return "a deadline callback"; });  // one broken callback must not stop the others
    }
    arm();
}

}  // namespace orbitmesh::engine
