#pragma once
#include <cstdint>
#include <functional>
#include <map>

#include "core/clock.hpp"
#include "engine/hub/deadline_queue.hpp"
#include "transport/asio.hpp"

namespace orbitmesh::engine {

/// Many deadlines served by one steady timer on a strand (the hub's deadline_queue). A callback
/// that throws is logged and the others still run. Not thread-safe: call only from that strand.
class timer_deadlines final : public deadline_queue {
public:
    using strand = boost::asio::strand<boost::asio::io_context::executor_type>;

    timer_deadlines(strand s, const core::clock& clock) : strand_(s), timer_(s), clock_(clock) {}
    void after(std::int64_t delay_ms, std::function<void()> fn) override;
    void clear() override;
    std::size_t size() const override { return entries_.size(); }

private:
    void arm();
    void fire();

    strand strand_;
    boost::asio::steady_timer timer_;
    const core::clock& clock_;
    std::multimap<std::int64_t, std::function<void()>> entries_;  // steady ms -> callback
    std::int64_t armed_for_ = 0;                                  // 0 = timer idle
};

}  // namespace orbitmesh::engine
