#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>

#include "transport/asio.hpp"

namespace orbitmesh::engine {

/// Many deadlines served by one steady timer. Callbacks run on the given strand; there is no
/// cancellation: a callback re-checks whether it still matters when it fires. Not thread-safe:
/// call only from that strand.
class deadline_queue {
public:
    using strand = boost::asio::strand<boost::asio::io_context::executor_type>;

    explicit deadline_queue(strand s) : strand_(s), timer_(s) {}
    /// Runs `fn` on the strand `delay_ms` from now (0 = as soon as possible).
    void after(std::int64_t delay_ms, std::function<void()> fn);
    /// Drops every pending deadline (shutdown).
    void clear();
    std::size_t size() const { return entries_.size(); }

private:
    void arm();
    void fire();

    strand strand_;
    boost::asio::steady_timer timer_;
    std::multimap<std::int64_t, std::function<void()>> entries_;  // steady ms -> callback
    std::int64_t armed_for_ = 0;                                  // 0 = timer idle
};

}  // namespace orbitmesh::engine
