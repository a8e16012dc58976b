#include "store/postgres/writer.hpp"

#include <algorithm>
#include <cstring>
#include <unordered_set>

#include "core/job_text.hpp"
#include "core/run_events.hpp"
#include "store/postgres/log_notice.hpp"
#include "store/postgres/schema.hpp"

namespace orbitmesh::store::postgres {
namespace {

constexpr const char* insert_event_sql =
    "INSERT INTO events(seq, stream, version, type, data, time, origin, hash) VALUES($1, $2, $3, $4, $5, $6, $7, $8)";
constexpr const char* prev_hash_sql = "SELECT hash FROM events WHERE stream = $1 AND version = $2";
constexpr const char* last_checkpoint_sql = "SELECT hash FROM log_chain ORDER BY seq DESC LIMIT 1";
constexpr const char* insert_checkpoint_sql = "INSERT INTO log_chain(seq, first_seq, hash) VALUES($1, $2, $3)";
// Shared store: rows of several hubs race; the one that saw more of the job's stream wins.
constexpr const char* upsert_job_fenced_sql =
    "INSERT INTO jobs(id, state, command, priority, attempt, agent_id, idempotency_key, created, updated, record,"
    " version) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    " ON CONFLICT(id) DO UPDATE SET state = excluded.state, command = excluded.command,"
    " priority = excluded.priority, attempt = excluded.attempt, agent_id = excluded.agent_id,"
    " idempotency_key = excluded.idempotency_key, created = excluded.created,"
    " updated = excluded.updated, record = excluded.record, version = excluded.version"
    " WHERE jobs.version IS NULL OR jobs.version <= excluded.version";
constexpr const char* upsert_job_sql =
    "INSERT INTO jobs(id, state, command, priority, attempt, agent_id, idempotency_key, created, updated, record,"
    " version) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    " ON CONFLICT(id) DO UPDATE SET state = excluded.state, command = excluded.command,"
    " priority = excluded.priority, attempt = excluded.attempt, agent_id = excluded.agent_id,"
    " idempotency_key = excluded.idempotency_key, created = excluded.created,"
    " updated = excluded.updated, record = excluded.record, version = excluded.version";
constexpr const char* upsert_run_sql =
    "INSERT INTO runs(id, state, workflow_id, workflow_version, parent_run, idempotency_key, created, updated,"
    " version, record) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    " ON CONFLICT(id) DO UPDATE SET state = excluded.state, workflow_id = excluded.workflow_id,"
    " workflow_version = excluded.workflow_version, parent_run = excluded.parent_run,"
    " idempotency_key = excluded.idempotency_key, created = excluded.created, updated = excluded.updated,"
    " version = excluded.version, record = excluded.record";
constexpr const char* upsert_key_sql =
    "INSERT INTO idempotency_keys(kind, key, id, created) VALUES($1, $2, $3, $4)"
    " ON CONFLICT(kind, key) DO UPDATE SET id = excluded.id, created = excluded.created";
// Shared store: a key's newer holder wins, whichever hub writes its row last (a hub writing the
// rows of its memory at start must not take a key back from a job created since).
constexpr const char* upsert_key_shared_sql =
    "INSERT INTO idempotency_keys(kind, key, id, created) VALUES($1, $2, $3, $4)"
    " ON CONFLICT(kind, key) DO UPDATE SET id = excluded.id, created = excluded.created"
    " WHERE idempotency_keys.created <= excluded.created";
constexpr const char* insert_snapshot_sql =
    "INSERT INTO snapshots(seq, time, format, data) VALUES($1, $2, $3, $4)"
    " ON CONFLICT(seq) DO UPDATE SET time = excluded.time, format = excluded.format, data = excluded.data";
constexpr const char* prune_snapshots_sql =
    "DELETE FROM snapshots WHERE seq < (SELECT min(seq) FROM (SELECT seq FROM snapshots ORDER BY seq DESC LIMIT 2) n)";
constexpr const char* upsert_agent_sql =
    "INSERT INTO agents(id, name, state, updated, record) VALUES($1, $2, $3, $4, $5)"
    " ON CONFLICT(id) DO UPDATE SET name = excluded.name, state = excluded.state,"
    " updated = excluded.updated, record = excluded.record";
// A resent output line already stored under the same (job, seq) is the same line (see SQLite).
constexpr const char* insert_log_sql =
    "INSERT INTO job_logs(job_id, seq, attempt, stream, data, time, agent_seq) VALUES($1, $2, $3, $4, $5, $6, $7)"
    " ON CONFLICT(job_id, seq) DO NOTHING";

std::string record_text(const core::json& j) { return j.dump(-1, ' ', false, core::json::error_handler_t::replace); }

}  // namespace

writer::writer(connection& db, std::string hub_id) : db_(db), hub_id_(std::move(hub_id)) {
    const char* doing = "preparing the store's statements";
    if (!hub_id_.empty()) {
        // The fence's `= ANY($1)` lookups: a generic plan guesses the array's selectivity and may
        // scan the whole log once it outgrows its first plans; plan each with its array.
        db_.exec("SET plan_cache_mode = force_custom_plan", "setting the writer's planning");
        fence_ = std::make_unique<fence>(db_, hub_id_);
        guard_ = std::make_unique<batch_guard>(db_, hub_id_);
        db_.prepare("upsert_job_fenced", upsert_job_fenced_sql, doing);
        db_.prepare("notify_logs", "SELECT pg_notify('" + std::string(log_channel) + "', $1)", doing);
    }
    db_.prepare("insert_event", insert_event_sql, doing);
    db_.prepare("prev_hash", prev_hash_sql, doing);
    db_.prepare("last_checkpoint", last_checkpoint_sql, doing);
    db_.prepare("insert_checkpoint", insert_checkpoint_sql, doing);
    db_.prepare("upsert_job", upsert_job_sql, doing);
    db_.prepare("upsert_run", upsert_run_sql, doing);
    db_.prepare("upsert_key", fence_ ? upsert_key_shared_sql : upsert_key_sql, doing);
    db_.prepare("insert_snapshot", insert_snapshot_sql, doing);
    db_.prepare("prune_snapshots", prune_snapshots_sql, doing);
    db_.prepare("upsert_agent", upsert_agent_sql, doing);
    db_.prepare("insert_log", insert_log_sql, doing);
}

void writer::write_group(std::span<const write_batch* const> group, std::vector<std::exception_ptr>& errors) {
    errors.assign(group.size(), nullptr);
    try {
        db_.exec("BEGIN", "starting a transaction");
        db_.exec("SELECT pg_advisory_xact_lock(" + std::to_string(append_lock_key) + ")", "taking the append lock");
        next_seq_ = db_.query("SELECT coalesce(max(seq), 0) + 1 FROM events", {}, "reading the last seq").int64(0, 0);
        const auto first_seq = next_seq_;
        chain_.begin(first_seq);
        if (fence_) fence_->begin();
        if (group.size() == 1) {
            write(*group.front(), false);
        } else {
            bool failed = false;
            for (std::size_t i = 0; i < group.size(); ++i) {
                errors[i] = write_isolated(*group[i], failed);
                failed = failed || errors[i] != nullptr;
            }
        }
        write_checkpoint();
        // Delivered to the other hubs' followers when (and only if) the transaction commits.
        if (fence_ && next_seq_ > first_seq) db_.exec("NOTIFY orbitmesh_events", "notifying the other hubs");
        if (fence_) notify_logs(group, errors);
        db_.exec("COMMIT", "committing " + std::to_string(group.size()) + " batch(es)");
    } catch (...) {
        const auto failure = std::current_exception();
        chain_.rolled_back();  // its heads may name events that were rolled back
        rollback_quietly();
        errors.assign(group.size(), failure);
    }
}

// One checkpoint per commit, chained onto the newest: the head of the whole log (as SQLite's).
void writer::write_checkpoint() {
    if (!chain_.any()) return;
    chain_hash prev = zero_hash;
    const auto r = db_.run_prepared("last_checkpoint", {}, "reading the log's last checkpoint");
    if (r.rows() > 0) {
        const auto h = r.bytes(0, 0);
        prev = hash_of_cell(h.data(), h.size());
    }
    const auto head = chain_.checkpoint(prev, next_seq_ - 1);
    params p;
    p.int64(next_seq_ - 1).int64(chain_.first_seq()).binary(head.data(), head.size());
    db_.run_prepared("insert_checkpoint", p, "writing the log's checkpoint");
}

chain_hash writer::previous_hash(const std::string& stream, std::int64_t version) {
    if (version <= 1) return zero_hash;
    if (const auto* h = chain_.cached(stream, version - 1)) return *h;
    if (fence_)
        if (const auto* h = fence_->stored_hash(stream, version - 1)) return *h;
    params p;
    p.text(stream).int64(version - 1);
    const auto r = db_.run_prepared("prev_hash", p, "reading the hash of the previous event of " + stream);
    if (r.rows() == 0) return zero_hash;  // a stream begun before the chain existed: its events have no hash
    const auto h = r.bytes(0, 0);
    return hash_of_cell(h.data(), h.size());
}

// `job logs -f` on another hub than the one its agent is connected to: the jobs whose output
// this transaction stores, for the other hubs to wake their readers (see follower::on_logs).
void writer::notify_logs(std::span<const write_batch* const> group, const std::vector<std::exception_ptr>& errors) {
    std::vector<std::string> ids;
    for (std::size_t i = 0; i < group.size(); ++i)
        if (!errors[i])
            for (const auto& l : group[i]->logs) ids.push_back(l.job_id);
    if (ids.empty()) return;
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    params p;
    const auto payload = log_notice(hub_id_, ids);
    p.text(payload);
    db_.run_prepared("notify_logs", p, "notifying the other hubs of new output");
}

std::exception_ptr writer::write_isolated(const write_batch& b, bool earlier_failed) {
    db_.exec("SAVEPOINT batch", "starting a batch");
    const auto first_seq = next_seq_;
    const auto hashes_before = chain_.mark();
    try {
        write(b, earlier_failed);
        db_.exec("RELEASE batch", "finishing a batch");
        return nullptr;
    } catch (...) {
        auto failure = std::current_exception();
        if (!db_.in_transaction()) std::rethrow_exception(failure);  // the connection is gone
        db_.exec("ROLLBACK TO batch", "rolling back a failed batch");
        db_.exec("RELEASE batch", "finishing a failed batch");
        next_seq_ = first_seq;  // the rolled-back events' seqs go to the next batch: no gaps
        chain_.rolled_back_to(hashes_before);
        if (fence_) fence_->begin();  // versions read or given since are rolled back too
        if (b.refused) b.refused->clear();
        return failure;
    }
}

void writer::write(const write_batch& b, bool earlier_failed) {
    if (b.snapshot && earlier_failed)
        throw core::error{core::error_kind::storage,
                          "store " + db_.where() + ": a snapshot after a failed batch is not written"};
    refused_.clear();
    if (fence_) {
        write_shared(b);
    } else {
        for (const auto& e : b.events) insert_event(row_of(e));
        for (const auto& j : b.jobs) upsert_job(j);
    }
    for (const auto& a : b.agents) upsert_agent(a);
    for (const auto& l : b.logs) insert_log(l);
    for (const auto& r : b.runs)
        if (refused_.empty() || !refused_.count(core::run_stream(r.id))) upsert_run(r);
    for (const auto& k : b.keys)
        if (refused_.empty() || !refused_.count(key_stream(k))) upsert_key(k);
    if (b.snapshot) write_snapshot(*b.snapshot);
}

// The shared store's batch: each job event passes the fence first; a refused one is reported in
// b.refused and dropped with the rest of its stream in this batch and the stream's row, since
// they were decided on top of it. Versions are the database's, so two hubs never collide.
void writer::write_shared(const write_batch& b) {
    auto& refused = refused_;
    guard_->check(b, refused);
    std::string why;
    fence_->prefetch(b.events);
    for (const auto& e : b.events) {
        if (refused.count(e.stream)) continue;
        if (!fence_->admit(e, why)) {
            refused.insert(e.stream);
            if (b.refused) b.refused->push_back({e.stream, e.type, why, {}});
            continue;
        }
        auto r = row_of(e);
        r.version = fence_->next_version(e.stream);
        insert_event(r);
    }
    fence_->flush();
    for (const auto& j : b.jobs) {
        const auto stream = "job-" + j.id;
        if (refused.count(stream)) continue;
        if (const auto v = fence_->last_version(stream); v > 0 && v != j.version) {
            job_row row = j;
            row.version = v;
            upsert_job(row);
        } else {
            upsert_job(j);
        }
    }
}

event_row writer::row_of(const core::event& e) {
    event_row r;
    r.seq = next_seq_++;
    r.source = &e;
    r.version = e.version;
    if (e.packed.empty()) {
        packed_.clear();
        core::json::to_msgpack(e.data, packed_);
        r.data = packed_.data();
        r.size = packed_.size();
    } else {
        r.data = e.packed.data();
        r.size = e.packed.size();
    }
    return r;
}

void writer::insert_event(const event_row& r) {
    const auto& e = *r.source;
    const auto prev = previous_hash(e.stream, r.version);
    const auto hash = chain_.hash(prev, r.seq, e.stream, r.version, e.type, e.time_ms,
                                  {static_cast<const std::uint8_t*>(r.data), r.size});
    params p;
    p.int64(r.seq).text(e.stream).int64(r.version).text(e.type).binary(r.data, r.size).int64(e.time_ms);
    p.text_or_null(hub_id_).binary(hash.data(), hash.size());
    try {
        db_.run_prepared("insert_event", p, "appending an event");
    } catch (const core::error& err) {
        if (err.kind() != core::error_kind::conflict) throw;
        throw core::error{core::error_kind::conflict,
                          "store " + db_.where() + ": stream \"" + e.stream + "\" already has version " +
                              std::to_string(r.version) + " (event " + e.type +
                              "); someone else appended to it first, reload the stream and retry"};
    }
    chain_.written(e.stream, r.version, hash);
}

void writer::upsert_job(const job_row& j) {
    params p;
    p.text(j.id).text(j.state).text(j.command).int64(j.priority).int64(j.attempt).text_or_null(j.agent_id);
    p.text_or_null(j.idempotency_key).int64(j.created_ms).int64(j.updated_ms).text(j.record).int64(j.version);
    db_.run_prepared(fence_ ? "upsert_job_fenced" : "upsert_job", p, "writing job " + j.id);
}

void writer::upsert_run(const run_row& r) {
    params p;
    p.text(r.id).text(r.state).text_or_null(r.workflow_id).text_or_null(r.workflow_version).text_or_null(r.parent_run);
    p.text_or_null(r.idempotency_key).int64(r.created_ms).int64(r.updated_ms).int64(r.version).text(r.record);
    db_.run_prepared("upsert_run", p, "writing run " + r.id);
}

void writer::upsert_key(const idempotency_row& k) {
    params p;
    p.text(k.kind).text(k.key).text(k.id).int64(k.created_ms);
    db_.run_prepared("upsert_key", p, "writing an idempotency key");
}

// Stamped with the last seq written so far in this transaction (see the SQLite writer).
void writer::write_snapshot(const snapshot_blob& s) {
    params p;
    p.int64(next_seq_ - 1).int64(s.time_ms).int64(s.format).binary(s.data.data(), s.data.size());
    db_.run_prepared("insert_snapshot", p, "writing a snapshot");
    db_.run_prepared("prune_snapshots", {}, "pruning old snapshots");
}

void writer::upsert_agent(const core::agent_record& a) {
    const std::string record = record_text(core::to_json(a));
    const std::string state(core::to_string(a.state));
    params p;
    p.text(a.id).text(a.name).text(state).int64(a.last_seen_ms).text(record);
    db_.run_prepared("upsert_agent", p, "writing agent " + a.id);
}

void writer::insert_log(const log_line& l) {
    params p;
    p.text(l.job_id).int64(l.seq).int64(l.attempt).text(l.stream).binary(l.data.data(), l.data.size());
    p.int64(l.time_ms).int64(l.agent_seq);
    db_.run_prepared("insert_log", p, "writing output of job " + l.job_id);
}

void writer::rollback_quietly() noexcept {
    if (!db_.in_transaction()) return;
    try {
        db_.exec("ROLLBACK", "rolling back");
    } catch (...) {
    }
}

}  // namespace orbitmesh::store::postgres
