#include "store/postgres/batch_guard.hpp"

#include <map>
#include <vector>

#include "core/job_events.hpp"
#include "core/run_events.hpp"
#include "store/postgres/connection.hpp"

namespace orbitmesh::store::postgres {
namespace {

// The holders of several (kind, key) pairs at once: $1 kinds and $2 keys, pairwise.
constexpr const char* key_holders_sql =
    "SELECT k.kind, k.key, k.id, k.created FROM idempotency_keys k"
    " JOIN unnest($1::text[], $2::text[]) AS w(kind, key) ON k.kind = w.kind AND k.key = w.key";
constexpr const char* leased_elsewhere_sql =
    "SELECT run_id, hub_id FROM run_leases WHERE run_id = ANY($1::text[]) AND hub_id <> $2";

bool starts_with(const std::string& s, std::string_view prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

/// The streams `b` creates: a job's `job.submitted`, a run's `run.started`.
std::unordered_set<std::string> created_streams(const write_batch& b) {
    std::unordered_set<std::string> out;
    for (const auto& e : b.events)
        if ((e.type == core::job_event::submitted && starts_with(e.stream, "job-")) ||
            (e.type == core::run_event::started && starts_with(e.stream, "run-")))
            out.insert(e.stream);
    return out;
}

void refuse(const write_batch& b, std::unordered_set<std::string>& refused, const std::string& stream, std::string type,
            std::string reason, std::string holder = {}) {
    if (!refused.insert(stream).second) return;
    if (b.refused) b.refused->push_back({stream, std::move(type), std::move(reason), std::move(holder)});
}

}  // namespace

std::string key_stream(const idempotency_row& k) { return (k.kind == "run" ? "run-" : "job-") + k.id; }

batch_guard::batch_guard(connection& db, std::string hub_id) : db_(db), hub_id_(std::move(hub_id)) {
    const char* doing = "preparing the shared store's checks";
    db_.prepare("key_holders", key_holders_sql, doing);
    db_.prepare("leased_elsewhere", leased_elsewhere_sql, doing);
}

void batch_guard::check(const write_batch& b, std::unordered_set<std::string>& refused) {
    const auto created = created_streams(b);
    if (!b.keys.empty()) check_keys(b, created, refused);
    check_leases(b, created, refused);
}

void batch_guard::check_keys(const write_batch& b, const std::unordered_set<std::string>& created,
                             std::unordered_set<std::string>& refused) {
    std::vector<const idempotency_row*> claims;  // keys of what this batch creates (not rows of what exists)
    std::vector<std::string> kinds, keys;
    for (const auto& k : b.keys)
        if (created.count(key_stream(k))) {
            claims.push_back(&k);
            kinds.push_back(k.kind);
            keys.push_back(k.key);
        }
    if (claims.empty()) return;
    const auto kind_list = text_array(kinds), key_list = text_array(keys);
    params p;
    p.text(kind_list).text(key_list);
    const auto r = db_.run_prepared("key_holders", p, "reading the holders of " + std::to_string(keys.size()) + " idempotency keys");
    std::map<std::pair<std::string, std::string>, std::pair<std::string, std::int64_t>> held;  // (kind, key) -> (id, created)
    for (int i = 0; i < r.rows(); ++i)
        held[{std::string(r.text(i, 0)), std::string(r.text(i, 1))}] = {std::string(r.text(i, 2)), r.int64(i, 3)};
    for (const auto* claim : claims) {
        const auto& k = *claim;
        const auto stream = key_stream(k);
        auto it = held.find({k.kind, k.key});
        if (it == held.end() || refused.count(stream)) continue;
        const auto& [holder, held_since] = it->second;
        if (holder == k.id || (k.window_ms > 0 && k.created_ms - held_since >= k.window_ms)) continue;
        const bool run = k.kind == "run";
        refuse(b, refused, stream, run ? std::string(core::run_event::started) : std::string(core::job_event::submitted),
               "idempotency key \"" + k.key + "\" already names " + (run ? "run " : "job ") + holder, holder);
    }
}

void batch_guard::check_leases(const write_batch& b, const std::unordered_set<std::string>& created,
                               std::unordered_set<std::string>& refused) {
    std::map<std::string, std::string> first_type;  // run id -> the type of its first event here
    for (const auto& e : b.events)
        if (starts_with(e.stream, "run-") && !created.count(e.stream)) first_type.try_emplace(e.stream.substr(4), e.type);
    if (first_type.empty()) return;
    std::vector<std::string> ids;
    for (const auto& [id, type] : first_type) ids.push_back(id);
    const auto list = text_array(ids);
    params p;
    p.text(list).text(hub_id_);
    const auto r = db_.run_prepared("leased_elsewhere", p, "reading the leases of " + std::to_string(ids.size()) + " runs");
    for (int i = 0; i < r.rows(); ++i) {
        const std::string run(r.text(i, 0)), driver(r.text(i, 1));
        const auto why = "run " + run + " is driven by hub " + driver + " now (it took the run over)";
        refuse(b, refused, core::run_stream(run), first_type[run], why);
        // The step jobs those run events would have started: their keys are "run-ID/…".
        const auto prefix = "run-" + run + "/";
        for (const auto& k : b.keys)
            if (k.kind == "job" && starts_with(k.key, prefix))
                refuse(b, refused, key_stream(k), std::string(core::job_event::submitted), "a step job of " + why);
    }
}

}  // namespace orbitmesh::store::postgres
