#include "engine/auth/token_service.hpp"

#include "core/clock.hpp"
#include "core/error.hpp"

namespace orbitmesh::engine::auth {

namespace {

bool is_token_stream(const std::string& s) { return s.rfind("token-", 0) == 0; }

core::json error_body(core::error_kind kind, const std::string& message) {
    return {{"error", core::to_string(kind)}, {"message", message}};
}

[[noreturn]] void no_token(const std::string& id) {
    throw core::error(core::error_kind::not_found, "no token " + id + " on this hub (see `orbitmesh token list`)");
}

}  // namespace

token_service::token_service(job_port& port, std::shared_ptr<const jwt_key> key, std::shared_ptr<revocation_list> revoked,
                             store_scan scan, session_closer close)
    : port_(port), key_(std::move(key)), revoked_(std::move(revoked)), scan_(std::move(scan)), close_(std::move(close)) {}

void token_service::replay(const core::event& e) {
    if (is_token_stream(e.stream)) fold(e);
}

void token_service::fold(const core::event& e) {
    auto& t = tokens_[e.stream.substr(6)];
    if (e.version <= t.version) return;  // already known (a store scan sees old events again)
    core::apply(t, e);
    if (t.revoked_ms != 0) revoked_->revoke(t.id);
    if (t.revoked_family && !t.family.empty()) revoked_->revoke_family(t.family);
}

void token_service::sync_from_store() {
    if (!scan_) return;
    scan_([this](const core::event& e) {
        try {
            fold(e);
        } catch (const core::error&) {
            // A token event that does not apply was already reported at recovery; nothing to add.
        }
    });
}

core::token_record* token_service::find(const std::string& id) {
    auto it = tokens_.find(id);
    if (it == tokens_.end() || it->second.version == 0) {
        sync_from_store();
        it = tokens_.find(id);
    }
    return it == tokens_.end() || it->second.version == 0 ? nullptr : &it->second;
}

core::json token_service::record_json(const core::token_record& t) const {
    return core::to_json(t, core::now_ms(), revoked_->family_revoked(t.family));
}

void token_service::create(mint_request r, token_reply reply) {
    auto m = mint_tokens(*key_, r);
    store::write_batch batch;
    batch.events = m.events;
    for (const auto& e : m.events) fold(e);
    port_.commit(std::move(batch), [m = std::move(m), reply = std::move(reply)] { reply(201, m.reply(core::now_ms())); });
}

void token_service::list(token_reply reply) {
    sync_from_store();
    core::json out = core::json::array();
    for (auto it = tokens_.rbegin(); it != tokens_.rend(); ++it)
        if (it->second.version != 0) out.push_back(record_json(it->second));
    reply(200, core::json{{"tokens", std::move(out)}});
}

void token_service::get(const std::string& id, token_reply reply) {
    auto* t = find(id);
    if (!t) no_token(id);
    reply(200, record_json(*t));
}

void token_service::revoke_now(core::token_record& t, const std::string& reason, const std::string& by, bool family,
                               store::write_batch& batch) {
    auto e = core::make_token_event(t, core::token_event::revoked, {{"reason", reason}, {"by", by}, {"family", family}});
    core::apply(t, e);
    batch.events.push_back(std::move(e));
    revoked_->revoke(t.id);
    if (family) revoked_->revoke_family(t.family);
    if (close_) close_(t.id, family ? t.family : std::string{}, "token " + t.id + " was revoked");
}

void token_service::revoke(const std::string& id, const std::string& reason, const std::string& by, token_reply reply) {
    auto* t = find(id);
    if (!t) no_token(id);
    if (t->revoked_ms != 0 && (t->family.empty() || t->revoked_family)) return reply(200, record_json(*t));
    store::write_batch batch;
    revoke_now(*t, reason.empty() ? "revoked by " + by : reason, by, !t->family.empty(), batch);
    port_.commit(std::move(batch), [this, id, reply = std::move(reply)] {
        if (auto* r = find(id)) reply(200, record_json(*r));
    });
}

void token_service::reuse_detected(core::token_record& t, token_reply reply) {
    store::write_batch batch;
    revoke_now(t, "refresh token used twice", "hub", true, batch);
    port_.commit(std::move(batch), [reply = std::move(reply), id = t.id] {
        reply(401, error_body(core::error_kind::unauthorized,
                              "refresh token " + id + " was already used: every token of its family is revoked now "
                              "(mint a new one with `orbitmesh token create`)"));
    });
}

void token_service::refresh(const core::token_claims& presented, token_reply reply) {
    auto* t = find(presented.id);
    if (!t || t->kind != core::token_kind::refresh)
        return reply(401, error_body(core::error_kind::unauthorized, "refresh token " + presented.id + " is unknown to this hub"));
    if (t->revoked_ms != 0 || revoked_->family_revoked(t->family))
        return reply(401, error_body(core::error_kind::unauthorized, "refresh token " + t->id + " is revoked"));
    if (t->spent_ms != 0) return reuse_detected(*t, std::move(reply));
    mint_request r;
    r.granted = t->granted;
    r.name = t->name;
    r.ttl_ms = std::max<std::int64_t>(1000, t->access_ttl_ms);
    r.refresh = true;
    r.refresh_ttl_ms = std::max<std::int64_t>(1000, t->expires_ms - t->created_ms);
    r.created_by = t->created_by;
    r.family = t->family;
    auto m = mint_tokens(*key_, r);
    store::write_batch batch;
    auto spent = core::make_token_event(*t, core::token_event::spent, {{"successor", m.refresh->record.id}});
    core::apply(*t, spent);
    batch.events.push_back(std::move(spent));
    for (const auto& e : m.events) {
        fold(e);
        batch.events.push_back(e);
    }
    port_.commit(std::move(batch), [m = std::move(m), reply = std::move(reply)] { reply(200, m.reply(core::now_ms())); });
}

}  // namespace orbitmesh::engine::auth
