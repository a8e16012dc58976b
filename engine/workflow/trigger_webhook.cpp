// Webhook triggers (SPEC §4, §8): `POST /api/v1/hooks/WORKFLOW/TRIGGER`, authenticated by an
// HMAC-SHA256 signature over "TIMESTAMP.BODY" instead of a token. The secret is never returned
// nor logged; a wrong signature, a stale timestamp or a replayed delivery starts nothing.
#include <cstdlib>
#include <utility>

#include "core/error.hpp"
#include "engine/workflow/trigger_engine.hpp"
#include "engine/workflow/webhook_secret.hpp"
#include "transport/signing_key.hpp"

namespace orbitmesh::engine {

namespace {

core::error refused(const std::string& why) {
    return core::error(core::error_kind::unauthorized, "webhook refused: " + why);
}

std::string hex(std::string_view bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : bytes) out += digits[c >> 4], out += digits[c & 15];
    return out;
}

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
    return s;
}

std::pair<const core::workflow*, const core::workflow_trigger*> find_hook(const workflow_registry& reg, const webhook_delivery& d) {
    const auto* w = reg.find(d.workflow);
    if (w == nullptr) return {nullptr, nullptr};
    for (const auto& t : w->definition->triggers)
        if (t.id == d.trigger && t.type == core::trigger_type::webhook) return {w->definition.get(), &t};
    return {nullptr, nullptr};
}

}  // namespace

std::string webhook_signature(const std::string& secret, const std::string& timestamp, const std::string& body) {
    return "sha256=" + hex(transport::hmac_sha256(secret, timestamp + "." + body));
}

void trigger_engine::webhook(const webhook_delivery& d, api_reply reply) {
    const auto [wf, t] = find_hook(runner_->registry(), d);
    if (t == nullptr)
        throw core::error(core::error_kind::not_found, "no webhook trigger " + d.trigger + " in workflow " + d.workflow +
                                                           " (see GET /api/v1/triggers)");
    if (!t->enabled) throw core::error(core::error_kind::conflict, "webhook trigger " + d.trigger + " of " + d.workflow + " is disabled");
    const auto secret = webhook_secret(*wf, *t);
    if (secret.empty()) throw refused("the trigger has no secret (set secret:, e.g. ${{ env.NAME }}, in the workflow file)");
    if (d.timestamp.empty() || d.timestamp.size() > 12 || d.timestamp.find_first_not_of("0123456789") != std::string::npos)
        throw refused("X-OrbitMesh-Timestamp must be the Unix time in seconds");
    const std::int64_t skew = std::llabs(std::stoll(d.timestamp) * 1000 - clock_.now_ms());
    if (skew > opts_.webhook_window_ms)
        throw refused("the timestamp is " + std::to_string(skew / 1000) + " s off the hub's clock (allowed: " +
                      std::to_string(opts_.webhook_window_ms / 1000) + " s)");
    const auto expected = webhook_signature(secret, d.timestamp, d.body);
    auto given = lower(d.signature);
    if (given.compare(0, 7, "sha256=") != 0) given = "sha256=" + given;
    if (!transport::equal_in_constant_time(expected, given))
        throw refused("the X-OrbitMesh-Signature does not match (HMAC-SHA256 of \"TIMESTAMP.BODY\" with the trigger's secret)");
    core::json body;
    try {
        body = d.body.empty() ? core::json::object() : core::json::parse(d.body);
    } catch (const core::json::exception&) {
        body = d.body;  // not JSON: the mapping sees the text
    }
    const core::json context{{"body", body}, {"data", body}, {"event", {{"type", "webhook"}, {"data", body}}},
                             {"headers", {{"timestamp", d.timestamp}}}};
    core::json inputs = map_inputs(*t, context);
    // The signature is unique per delivery: a replay within the window finds the run it started.
    auto once = [reply, workflow = d.workflow, trigger = d.trigger](int status, core::json answer) {
        if (status == 200)
            return reply(409, {{"error", "conflict"},
                               {"message", "this delivery was already accepted as run " + answer.value("run_id", std::string{}) +
                                               " (a replayed signature starts nothing)"},
                               {"run_id", answer.value("run_id", std::string{})}});
        reply(status, std::move(answer));
    };
    fire(d.workflow, *t, clock_.now_ms(), "webhook", std::move(inputs), "trigger:" + d.workflow + "/" + d.trigger + "@hook:" + expected.substr(7),
         once);
}

}  // namespace orbitmesh::engine
