#include "engine/auth/failure_limiter.hpp"

namespace orbitmesh::engine::auth {

std::int64_t failure_limiter::blocked_for(const std::string& address, std::int64_t now_ms) {
    if (opts_.max_failures <= 0) return 0;
    std::lock_guard lock(mu_);
    auto it = windows_.find(address);
    if (it == windows_.end()) return 0;
    auto ends = it->second.started_ms + opts_.window_ms;
    if (now_ms >= ends) {
        windows_.erase(it);
        return 0;
    }
    return it->second.failures >= opts_.max_failures ? ends - now_ms : 0;
}

void failure_limiter::failed(const std::string& address, std::int64_t now_ms) {
    if (opts_.max_failures <= 0) return;
    std::lock_guard lock(mu_);
    auto it = windows_.find(address);
    if (it == windows_.end() || now_ms >= it->second.started_ms + opts_.window_ms) {
        if (it == windows_.end() && windows_.size() >= opts_.max_addresses) make_room(now_ms);
        windows_[address] = window{now_ms, 1};
        return;
    }
    ++it->second.failures;
}

void failure_limiter::make_room(std::int64_t now_ms) {
    for (auto it = windows_.begin(); it != windows_.end();) {
        if (now_ms >= it->second.started_ms + opts_.window_ms) it = windows_.erase(it);
        else ++it;
    }
    // Still full of live windows: forget them all rather than scan for the oldest on every new
    // address (that would make a spray of addresses quadratic). Amortized O(1) per address.
    if (windows_.size() >= opts_.max_addresses) windows_.clear();
}

std::string failure_limiter::address_of(const std::string& remote) {
    if (!remote.empty() && remote.front() == '[') {
        auto close = remote.find(']');
        return close == std::string::npos ? remote : remote.substr(1, close - 1);
    }
    auto colon = remote.rfind(':');
    return colon == std::string::npos ? remote : remote.substr(0, colon);
}

}  // namespace orbitmesh::engine::auth
