#pragma once
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "store/postgres/connection.hpp"
#include "store/shared_log.hpp"

namespace orbitmesh::store::postgres {

/// The PostgreSQL shared_log: one thread, one connection that LISTENs on `orbitmesh_events`
/// (every shared writer NOTIFYs after its commit), reads the events after the last one it saw
/// whenever notified or every poll_ms, and hands those of other origins to the hub. Every
/// heartbeat_ms it writes this hub's `hubs` row and reports every hub's age. A dropped
/// connection is reported and reopened a second later; no event is skipped (it resumes by seq).
class follower final : public shared_log {
public:
    explicit follower(options opts);
    ~follower() override;
    void stop() override;

private:
    void connect();
    void run();
    void read_new();
    void heartbeat();
    void wait_for_notify(std::int64_t ms);
    void take_notice(const PGnotify& n);
    void hand_over_logs();

    options opts_;
    std::unique_ptr<connection> db_;
    std::int64_t last_seq_ = 0;
    std::vector<std::string> woken_logs_;  // job ids of output notices since the last hand-over
    bool woken_all_ = false;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

}  // namespace orbitmesh::store::postgres
