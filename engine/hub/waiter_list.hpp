#pragma once
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace orbitmesh::engine {

/// Requests the hub holds under a key until what they wait for happens or their deadline passes:
/// `GET /jobs/ID?wait=` (by job), `/logs?wait=` (by job) and agent invoke calls (by call id). The
/// deadline side is take(key, token): the waiter is answered by whichever comes first and only
/// once. Not thread-safe (the hub strand).
template <class Waiter>
class waiter_list {
public:
    /// Holds `w` under `key`; returns the token its deadline uses.
    std::uint64_t add(const std::string& key, Waiter w) {
        auto token = ++next_token_;
        by_key_[key].emplace_back(token, std::move(w));
        ++size_;
        return token;
    }
    /// The waiter with this token, taken out, if nothing answered it yet (its deadline passed).
    std::optional<Waiter> take(const std::string& key, std::uint64_t token) {
        auto it = by_key_.find(key);
        if (it == by_key_.end()) return std::nullopt;
        auto& list = it->second;
        for (auto w = list.begin(); w != list.end(); ++w) {
            if (w->first != token) continue;
            std::optional<Waiter> out(std::move(w->second));
            list.erase(w);
            if (list.empty()) by_key_.erase(it);
            --size_;
            return out;
        }
        return std::nullopt;
    }
    /// Every waiter of `key`, taken out (what they waited for happened), oldest first.
    std::vector<Waiter> take_all(const std::string& key) {
        std::vector<Waiter> out;
        auto it = by_key_.find(key);
        if (it == by_key_.end()) return out;
        for (auto& [token, w] : it->second) out.push_back(std::move(w));
        size_ -= it->second.size();
        by_key_.erase(it);
        return out;
    }
    /// Every waiter for which `pred(w)` holds, taken out (an agent went away: its calls).
    template <class Pred>
    std::vector<Waiter> take_if(Pred pred) {
        std::vector<Waiter> out;
        for (auto it = by_key_.begin(); it != by_key_.end();) {
            auto& list = it->second;
            for (auto w = list.begin(); w != list.end();) {
                if (!pred(w->second)) {
                    ++w;
                    continue;
                }
                out.push_back(std::move(w->second));
                w = list.erase(w);
                --size_;
            }
            it = list.empty() ? by_key_.erase(it) : std::next(it);
        }
        return out;
    }
    /// Every waiter, taken out (shutdown).
    std::vector<Waiter> drain() {
        return take_if([](const Waiter&) { return true; });
    }
    bool contains(const std::string& key) const { return by_key_.count(key) != 0; }
    /// The keys that have waiters.
    std::vector<std::string> keys() const {
        std::vector<std::string> out;
        out.reserve(by_key_.size());
        for (const auto& [key, list] : by_key_) out.push_back(key);
        return out;
    }
    std::size_t size() const noexcept { return size_; }

private:
    std::unordered_map<std::string, std::vector<std::pair<std::uint64_t, Waiter>>> by_key_;
    std::uint64_t next_token_ = 0;
    std::size_t size_ = 0;
};

}  // namespace orbitmesh::engine
