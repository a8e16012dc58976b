#include "store/postgres/batch_guard.hpp"

#include <map>
#include <vector>

#include "core/job_events.hpp"
#include "core/run_events.hpp"
#include "store/postgres/connection.hpp"

namespace orbitmesh::store::postgres {
namespace {

constexpr const char* key_holder_sql = "SELECT id, created FROM idempotency_keys WHERE kind = $1 AND key = $2";
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
    db_.prepare("key_holder", key_holder_sql, doing);
    db_.prepare("leased_elsewhere", leased_elsewhere_sql, doing);
}

void batch_guard::check(const write_batch& b, std::unordered_set<std::string>& refused) {
    if (!b.keys.empty()) check_keys(b, refused);
    check_leases(b, refused);
}

void batch_guard::check_keys(const write_batch& b, std::unordered_set<std::string>& refused) {
    const auto created = created_streams(b);
    for (const auto& k : b.keys) {
        const auto stream = key_stream(k);
        if (!created.count(stream) || refused.count(stream)) continue;  // a row of something that exists
        params p;
        p.text(k.kind).text(k.key);
        const auto r = db_.run_prepared("key_holder", p, "reading the holder of an idempotency key");
        if (r.rows() == 0) continue;
        const std::string holder(r.text(0, 0));
        const auto held_since = r.int64(0, 1);
        if (holder == k.id || (k.window_ms > 0 && k.created_ms - held_since >= k.window_ms)) continue;
        const bool run = k.kind == "run";
        refuse(b, refused, stream, run ? std::string(core::run_event::started) : std::string(core::job_event::submitted),
               "idempotency key \"" + k.key + "\" already names " + (run ? "run " : "job ") + holder, holder);
    }
}

void batch_guard::check_leases(const write_batch& b, std::unordered_set<std::string>& refused) {
    const auto created = created_streams(b);
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
