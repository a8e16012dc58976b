#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "core/token_claims.hpp"
#include "core/token_events.hpp"
#include "engine/auth/jwt.hpp"
#include "engine/auth/revocation_list.hpp"
#include "engine/auth/token_mint.hpp"
#include "engine/hub/job_port.hpp"

namespace orbitmesh::engine::auth {

/// An HTTP-shaped answer: status and JSON body (errors as `{error, message}`).
using token_reply = std::function<void(int status, core::json body)>;

/// The tokens a hub issued and what became of them (SPEC §8), kept as events in `token-<jti>`
/// streams: created, revoked (one token, or its whole refresh family), spent (a refresh token
/// rotated). Lives on the hub strand like the workflow runner: every call must be made there.
/// Revocations go into the shared revocation_list at once and open agent connections that used
/// the token are closed, before the event is even committed; replies follow the commit.
class token_service : public job_observer {
public:
    /// Closes the /mesh connections whose principal has `token_id` or belongs to `family` ("" = none).
    using session_closer = std::function<void(const std::string& token_id, const std::string& family, const std::string& reason)>;
    /// Calls its argument for every event of the store's `token-*` streams, in order: tokens made by
    /// `token create --data-dir` while this hub runs are found that way.
    using store_scan = std::function<void(const std::function<void(const core::event&)>&)>;

    token_service(job_port& port, std::shared_ptr<const jwt_key> key, std::shared_ptr<revocation_list> revoked,
                  store_scan scan, session_closer close);

    void create(mint_request r, token_reply reply);
    void list(token_reply reply);
    void get(const std::string& id, token_reply reply);
    /// Revokes a token; one that has a refresh family takes the whole family with it.
    void revoke(const std::string& id, const std::string& reason, const std::string& by, token_reply reply);
    /// Rotates the refresh token `presented` (signature and claims already checked): spends it and
    /// answers a new access + refresh pair of the same family. A spent one presented again revokes
    /// the whole family and is answered 401.
    void refresh(const core::token_claims& presented, token_reply reply);

    // job_observer: token streams are folded at recovery; jobs are none of its business.
    void replay(const core::event& e) override;
    /// A start from a snapshot keeps nothing of tokens: every `token-*` event up to it is folded again.
    std::vector<std::string> restore(const core::hub_snapshot&) override { return {"token-"}; }
    void recovered() override {}
    void job_ended(const core::job_record&) override {}
    void job_output(const store::log_line&) override {}

private:
    void fold(const core::event& e);
    /// The record in memory, else after reading the store once (offline-made tokens); or nullptr.
    core::token_record* find(const std::string& id);
    void sync_from_store();
    core::json record_json(const core::token_record& t) const;
    void revoke_now(core::token_record& t, const std::string& reason, const std::string& by, bool family,
                    store::write_batch& batch);
    void reuse_detected(core::token_record& t, token_reply reply);

    job_port& port_;
    std::shared_ptr<const jwt_key> key_;
    std::shared_ptr<revocation_list> revoked_;
    store_scan scan_;
    session_closer close_;
    std::map<std::string, core::token_record> tokens_;  // by id; ids are time-ordered
};

}  // namespace orbitmesh::engine::auth
