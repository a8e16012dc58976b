#include "store/batch_writer.hpp"

#include <cstring>
#include <string_view>
#include <utility>

#include <SQLiteCpp/Exception.h>
#include <sqlite3.h>

#include "core/error.hpp"
#include "core/job_text.hpp"
#include "store/sqlite/connection.hpp"
#include "store/sqlite/statement.hpp"

namespace orbitmesh::store {
namespace {

using sqlite::run;
using sqlite::statement_scope;

constexpr const char* insert_event_sql =
    "INSERT INTO events(seq, stream, version, type, data, time, hash) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)";
constexpr const char* prev_hash_sql = "SELECT hash FROM events WHERE stream = ?1 AND version = ?2";
constexpr const char* last_checkpoint_sql = "SELECT seq, hash FROM log_chain ORDER BY seq DESC LIMIT 1";
constexpr const char* insert_checkpoint_sql = "INSERT INTO log_chain(seq, first_seq, hash) VALUES(?1, ?2, ?3)";
constexpr const char* upsert_job_sql =
    "INSERT INTO jobs(id, state, command, priority, attempt, agent_id, idempotency_key, created, updated, record,"
    " version) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
    " ON CONFLICT(id) DO UPDATE SET state = excluded.state, command = excluded.command,"
    " priority = excluded.priority, attempt = excluded.attempt, agent_id = excluded.agent_id,"
    " idempotency_key = excluded.idempotency_key, created = excluded.created,"
    " updated = excluded.updated, record = excluded.record, version = excluded.version";
constexpr const char* upsert_run_sql =
    "INSERT INTO runs(id, state, workflow_id, workflow_version, parent_run, idempotency_key, created, updated,"
    " version, record) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
    " ON CONFLICT(id) DO UPDATE SET state = excluded.state, workflow_id = excluded.workflow_id,"
    " workflow_version = excluded.workflow_version, parent_run = excluded.parent_run,"
    " idempotency_key = excluded.idempotency_key, created = excluded.created, updated = excluded.updated,"
    " version = excluded.version, record = excluded.record";
constexpr const char* upsert_key_sql =
    "INSERT INTO idempotency_keys(kind, key, id, created) VALUES(?1, ?2, ?3, ?4)"
    " ON CONFLICT(kind, key) DO UPDATE SET id = excluded.id, created = excluded.created";
constexpr const char* insert_snapshot_sql =
    "INSERT OR REPLACE INTO snapshots(seq, time, format, data) VALUES(?1, ?2, ?3, ?4)";
// The newest two stay: one to start from, one more in case the newest turns out unreadable.
constexpr const char* prune_snapshots_sql =
    "DELETE FROM snapshots WHERE seq < (SELECT min(seq) FROM (SELECT seq FROM snapshots ORDER BY seq DESC LIMIT 2))";
constexpr const char* upsert_agent_sql =
    "INSERT INTO agents(id, name, state, updated, record) VALUES(?1, ?2, ?3, ?4, ?5)"
    " ON CONFLICT(id) DO UPDATE SET name = excluded.name, state = excluded.state,"
    " updated = excluded.updated, record = excluded.record";
// An agent resends output it is unsure about after a reconnect; a line already stored under the
// same (job, seq) is the same line, so it is skipped rather than failing the whole group.
constexpr const char* insert_log_sql =
    "INSERT INTO job_logs(job_id, seq, attempt, stream, data, time, agent_seq) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)"
    " ON CONFLICT(job_id, seq) DO NOTHING";

// Empty optional text is stored as NULL so operators can write `agent_id IS NULL`.
void bind_text_or_null(SQLite::Statement& s, int index, const std::string& value) {
    if (!value.empty()) s.bindNoCopy(index, value);
}

// Invalid UTF-8 in an agent's record must not make the whole group fail: replace it.
std::string record_text(const core::json& j) { return j.dump(-1, ' ', false, core::json::error_handler_t::replace); }

bool is_constraint(const SQLite::Exception& e) { return (e.getErrorCode() & 0xff) == SQLITE_CONSTRAINT; }

}  // namespace

job_row::job_row(const core::job_record& r)
    : id(r.id),
      state(core::to_string(r.state)),
      command(r.spec.command),
      agent_id(r.agent_id),
      idempotency_key(r.spec.idempotency_key),
      priority(r.spec.priority),
      attempt(r.attempt),
      created_ms(r.created_ms),
      updated_ms(r.updated_ms),
      version(r.version),
      record(core::to_json_text(r)) {}

run_row::run_row(const core::run_record& r)
    : id(r.id),
      workflow_id(r.workflow_id),
      workflow_version(r.workflow_version),
      parent_run(r.parent_run),
      idempotency_key(r.idempotency_key),
      created_ms(r.created_ms),
      updated_ms(r.finished_ms > 0 ? r.finished_ms : r.started_ms > 0 ? r.started_ms : r.created_ms),
      version(r.version) {
    const auto j = core::to_json(r);
    state = j.value("state", std::string{});  // as the API shows it (paused, waiting)
    record = record_text(j);
}

batch_writer::batch_writer(SQLite::Database& db, std::filesystem::path file)
    : db_(db),
      file_(std::move(file)),
      begin_(db, "BEGIN IMMEDIATE"),
      commit_(db, "COMMIT"),
      rollback_(db, "ROLLBACK"),
      savepoint_(db, "SAVEPOINT batch"),
      release_(db, "RELEASE batch"),
      rollback_to_(db, "ROLLBACK TO batch"),
      insert_event_(db, insert_event_sql),
      upsert_job_(db, upsert_job_sql),
      upsert_agent_(db, upsert_agent_sql),
      insert_log_(db, insert_log_sql),
      upsert_run_(db, upsert_run_sql),
      upsert_key_(db, upsert_key_sql),
      insert_snapshot_(db, insert_snapshot_sql),
      prune_snapshots_(db, prune_snapshots_sql),
      last_seq_(db, "SELECT coalesce(max(seq), 0) FROM events"),
      prev_hash_(db, prev_hash_sql),
      last_checkpoint_(db, last_checkpoint_sql),
      insert_checkpoint_(db, insert_checkpoint_sql) {}

// Another process (an offline `token create`) may have appended since our last commit: the next
// seq is read inside the transaction, under its write lock.
void batch_writer::begin_chain() {
    statement_scope scope(last_seq_);
    next_seq_ = (last_seq_.executeStep() ? last_seq_.getColumn(0).getInt64() : 0) + 1;
    chain_.begin(next_seq_);
}

// One checkpoint per commit group, chained onto the newest one: the head of the whole log.
void batch_writer::write_checkpoint() {
    if (!chain_.any()) return;
    chain_hash prev = zero_hash;
    {
        statement_scope scope(last_checkpoint_);
        if (last_checkpoint_.executeStep()) {
            const auto col = last_checkpoint_.getColumn(1);
            prev = hash_of_cell(col.getBlob(), static_cast<std::size_t>(col.getBytes()));
        }
    }
    const std::int64_t last = next_seq_ - 1;
    const auto head = chain_.checkpoint(prev, last);
    statement_scope scope(insert_checkpoint_);
    insert_checkpoint_.bind(1, static_cast<std::int64_t>(last));
    insert_checkpoint_.bind(2, static_cast<std::int64_t>(chain_.first_seq()));
    insert_checkpoint_.bindNoCopy(3, head.data(), static_cast<int>(head.size()));
    insert_checkpoint_.exec();
}

chain_hash batch_writer::previous_hash(const core::event& e) {
    if (e.version <= 1) return zero_hash;
    if (const auto* h = chain_.cached(e.stream, e.version - 1)) return *h;
    chain_hash prev = zero_hash;  // a stream begun before the chain existed: its events have no hash
    statement_scope scope(prev_hash_);
    prev_hash_.bindNoCopy(1, e.stream);
    prev_hash_.bind(2, static_cast<std::int64_t>(e.version - 1));
    if (prev_hash_.executeStep()) {
        const auto col = prev_hash_.getColumn(0);
        prev = hash_of_cell(col.getBlob(), static_cast<std::size_t>(col.getBytes()));
    }
    return prev;
}

void batch_writer::write_group(std::span<const write_batch* const> group, std::vector<std::exception_ptr>& errors) {
    errors.assign(group.size(), nullptr);
    try {
        run(begin_);
        begin_chain();
        if (group.size() == 1) {
            write(*group.front());  // the transaction itself is the unit: no savepoint needed
        } else {
            bool failed = false;
            for (std::size_t i = 0; i < group.size(); ++i) {
                errors[i] = write_isolated(*group[i], failed);
                failed = failed || errors[i] != nullptr;
            }
        }
        write_checkpoint();
        run(commit_);
    } catch (...) {
        chain_.rolled_back();  // its heads may name events that were rolled back
        const auto failure = std::make_exception_ptr(
            sqlite::storage_error(file_, "committing " + std::to_string(group.size()) + " batch(es)"));
        rollback_quietly();
        errors.assign(group.size(), failure);
    }
}

std::exception_ptr batch_writer::write_isolated(const write_batch& b, bool earlier_failed) {
    run(savepoint_);
    const auto seq_before = next_seq_;
    const auto hashes_before = chain_.mark();
    try {
        write(b, earlier_failed);
        run(release_);
        return nullptr;
    } catch (...) {
        auto failure = std::current_exception();
        // After an I/O error or a full disk SQLite may have rolled back the whole transaction:
        // then the group as a whole failed.
        if (sqlite3_get_autocommit(db_.getHandle()) != 0) std::rethrow_exception(failure);
        run(rollback_to_);
        run(release_);
        next_seq_ = seq_before;
        chain_.rolled_back_to(hashes_before);
        return failure;
    }
}

void batch_writer::write(const write_batch& b, bool earlier_failed) {
    // A snapshot describes every batch before it: after one of them failed it would describe
    // events that are not in the log, so it fails too.
    if (b.snapshot && earlier_failed)
        throw core::error{core::error_kind::storage, "store " + file_.string() + ": a snapshot after a failed batch is not written"};
    try {
        for (const auto& e : b.events) insert_event(e);
        for (const auto& j : b.jobs) upsert_job(j);
        for (const auto& a : b.agents) upsert_agent(a);
        for (const auto& l : b.logs) insert_log(l);
        for (const auto& r : b.runs) upsert_run(r);
        for (const auto& k : b.keys) upsert_key(k);
        if (b.snapshot) write_snapshot(*b.snapshot);
    } catch (...) {
        throw sqlite::storage_error(file_, "writing a batch");
    }
}

void batch_writer::insert_event(const core::event& e) {
    const void* blob = e.packed.data();
    auto size = e.packed.size();
    if (e.packed.empty()) {
        packed_.clear();
        core::json::to_msgpack(e.data, packed_);
        blob = packed_.data();
        size = packed_.size();
    }
    const std::int64_t seq = next_seq_;
    const auto hash = chain_.hash(previous_hash(e), seq, e.stream, e.version, e.type, e.time_ms,
                                  {static_cast<const std::uint8_t*>(blob), size});
    statement_scope scope(insert_event_);
    insert_event_.bind(1, static_cast<std::int64_t>(seq));
    insert_event_.bindNoCopy(2, e.stream);
    insert_event_.bind(3, static_cast<std::int64_t>(e.version));
    insert_event_.bindNoCopy(4, e.type);
    insert_event_.bindNoCopy(5, blob, static_cast<int>(size));
    insert_event_.bind(6, static_cast<std::int64_t>(e.time_ms));
    insert_event_.bindNoCopy(7, hash.data(), static_cast<int>(hash.size()));
    try {
        insert_event_.exec();
        ++next_seq_;
        chain_.written(e.stream, e.version, hash);
    } catch (const SQLite::Exception& err) {
        if (!is_constraint(err)) throw;
        throw core::error{core::error_kind::conflict,
                          "store " + file_.string() + ": stream \"" + e.stream + "\" already has version " +
                              std::to_string(e.version) + " (event " + e.type +
                              "); someone else appended to it first, reload the stream and retry"};
    }
}

void batch_writer::upsert_job(const job_row& j) {
    statement_scope scope(upsert_job_);
    upsert_job_.bindNoCopy(1, j.id);
    upsert_job_.bindNoCopy(2, j.state);
    upsert_job_.bindNoCopy(3, j.command);
    upsert_job_.bind(4, j.priority);
    upsert_job_.bind(5, j.attempt);
    bind_text_or_null(upsert_job_, 6, j.agent_id);
    bind_text_or_null(upsert_job_, 7, j.idempotency_key);
    upsert_job_.bind(8, static_cast<std::int64_t>(j.created_ms));
    upsert_job_.bind(9, static_cast<std::int64_t>(j.updated_ms));
    upsert_job_.bindNoCopy(10, j.record);
    upsert_job_.bind(11, static_cast<std::int64_t>(j.version));
    upsert_job_.exec();
}

void batch_writer::upsert_run(const run_row& r) {
    statement_scope scope(upsert_run_);
    upsert_run_.bindNoCopy(1, r.id);
    upsert_run_.bindNoCopy(2, r.state);
    bind_text_or_null(upsert_run_, 3, r.workflow_id);
    bind_text_or_null(upsert_run_, 4, r.workflow_version);
    bind_text_or_null(upsert_run_, 5, r.parent_run);
    bind_text_or_null(upsert_run_, 6, r.idempotency_key);
    upsert_run_.bind(7, static_cast<std::int64_t>(r.created_ms));
    upsert_run_.bind(8, static_cast<std::int64_t>(r.updated_ms));
    upsert_run_.bind(9, static_cast<std::int64_t>(r.version));
    upsert_run_.bindNoCopy(10, r.record);
    upsert_run_.exec();
}

void batch_writer::upsert_key(const idempotency_row& k) {
    statement_scope scope(upsert_key_);
    upsert_key_.bindNoCopy(1, k.kind);
    upsert_key_.bindNoCopy(2, k.key);
    upsert_key_.bindNoCopy(3, k.id);
    upsert_key_.bind(4, static_cast<std::int64_t>(k.created_ms));
    upsert_key_.exec();
}

// Stamped here, inside the transaction, with the last seq written so far: the snapshot's state
// is the fold of exactly the events up to that seq, whoever wrote them.
void batch_writer::write_snapshot(const snapshot_blob& s) {
    std::int64_t seq = 0;
    {
        statement_scope scope(last_seq_);
        if (last_seq_.executeStep()) seq = last_seq_.getColumn(0).getInt64();
    }
    {
        statement_scope scope(insert_snapshot_);
        insert_snapshot_.bind(1, static_cast<std::int64_t>(seq));
        insert_snapshot_.bind(2, static_cast<std::int64_t>(s.time_ms));
        insert_snapshot_.bind(3, s.format);
        insert_snapshot_.bindNoCopy(4, s.data.data(), static_cast<int>(s.data.size()));
        insert_snapshot_.exec();
    }
    statement_scope scope(prune_snapshots_);
    prune_snapshots_.exec();
}

void batch_writer::upsert_agent(const core::agent_record& a) {
    const std::string record = record_text(core::to_json(a));
    const std::string state(core::to_string(a.state));
    statement_scope scope(upsert_agent_);
    upsert_agent_.bindNoCopy(1, a.id);
    upsert_agent_.bindNoCopy(2, a.name);
    upsert_agent_.bindNoCopy(3, state);
    upsert_agent_.bind(4, static_cast<std::int64_t>(a.last_seen_ms));
    upsert_agent_.bindNoCopy(5, record);
    upsert_agent_.exec();
}

void batch_writer::insert_log(const log_line& l) {
    statement_scope scope(insert_log_);
    insert_log_.bindNoCopy(1, l.job_id);
    insert_log_.bind(2, static_cast<std::int64_t>(l.seq));
    insert_log_.bind(3, l.attempt);
    insert_log_.bindNoCopy(4, l.stream);
    insert_log_.bindNoCopy(5, l.data);
    insert_log_.bind(6, static_cast<std::int64_t>(l.time_ms));
    insert_log_.bind(7, static_cast<std::int64_t>(l.agent_seq));
    insert_log_.exec();
}

void batch_writer::rollback_quietly() noexcept {
    // Nothing to undo when SQLite already rolled back (or BEGIN itself failed).
    if (sqlite3_get_autocommit(db_.getHandle()) != 0) return;
    try {
        run(rollback_);
    } catch (...) {
        // The connection keeps the transaction open only if ROLLBACK itself failed; the next
        // BEGIN then fails and reports it to that group's callbacks.
    }
}

}  // namespace orbitmesh::store
