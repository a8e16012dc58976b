#pragma once
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_set>

namespace orbitmesh::engine::auth {

/// Token ids and refresh families that are revoked, as the token service decided them (it rebuilds
/// this from the store's `token.revoked` events at start). Read on every authenticated request, from
/// any thread; written rarely, on the hub strand. Thread-safe.
class revocation_list {
public:
    void revoke(const std::string& token_id) {
        std::unique_lock lock(mu_);
        tokens_.insert(token_id);
    }
    void revoke_family(const std::string& family) {
        std::unique_lock lock(mu_);
        families_.insert(family);
    }
    bool is_revoked(const std::string& token_id, const std::string& family) const {
        std::shared_lock lock(mu_);
        return tokens_.count(token_id) != 0 || (!family.empty() && families_.count(family) != 0);
    }
    bool family_revoked(const std::string& family) const {
        std::shared_lock lock(mu_);
        return !family.empty() && families_.count(family) != 0;
    }

private:
    mutable std::shared_mutex mu_;
    std::unordered_set<std::string> tokens_;
    std::unordered_set<std::string> families_;
};

}  // namespace orbitmesh::engine::auth
