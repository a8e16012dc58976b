#pragma once
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace orbitmesh::engine::auth {

/// Counts failed authentications per client address (IP, no port) in a fixed window: once an
/// address has `max_failures` in its window it is refused (429) until the window ends, so a token
/// cannot be guessed at line rate. The table holds at most `max_addresses` entries (expired ones are
/// pruned first; a table still full of live windows is emptied), so a flood of addresses cannot grow it without bound.
/// Thread-safe.
class failure_limiter {
public:
    struct options {
        int max_failures = 30;  // per window; 0 turns the limit off
        std::int64_t window_ms = 60'000;
        std::size_t max_addresses = 10'000;
    };
    explicit failure_limiter(options o) : opts_(o) {}

    /// Milliseconds until `address` may try again, 0 when it may now.
    std::int64_t blocked_for(const std::string& address, std::int64_t now_ms);
    /// Records one failed attempt from `address`.
    void failed(const std::string& address, std::int64_t now_ms);

    /// "127.0.0.1" of "127.0.0.1:5123", "::1" of "[::1]:5123": what the limit is kept by.
    static std::string address_of(const std::string& remote);

private:
    struct window {
        std::int64_t started_ms = 0;
        int failures = 0;
    };
    void make_room(std::int64_t now_ms);

    options opts_;
    std::mutex mu_;
    std::unordered_map<std::string, window> windows_;
};

}  // namespace orbitmesh::engine::auth
