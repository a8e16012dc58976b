#include "store/batch_writer.hpp"

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
    "INSERT INTO events(stream, version, type, data, time) VALUES(?1, ?2, ?3, ?4, ?5)";
constexpr const char* upsert_job_sql =
    "INSERT INTO jobs(id, state, command, priority, attempt, agent_id, idempotency_key, created, updated, record)"
    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
    " ON CONFLICT(id) DO UPDATE SET state = excluded.state, command = excluded.command,"
    " priority = excluded.priority, attempt = excluded.attempt, agent_id = excluded.agent_id,"
    " idempotency_key = excluded.idempotency_key, created = excluded.created,"
    " updated = excluded.updated, record = excluded.record";
constexpr const char* upsert_agent_sql =
    "INSERT INTO agents(id, name, state, updated, record) VALUES(?1, ?2, ?3, ?4, ?5)"
    " ON CONFLICT(id) DO UPDATE SET name = excluded.name, state = excluded.state,"
    " updated = excluded.updated, record = excluded.record";
// An agent resends output it is unsure about after a reconnect; a line already stored under the
// same (job, seq) is the same line, so it is skipped rather than failing the whole group.
constexpr const char* insert_log_sql =
    "INSERT INTO job_logs(job_id, seq, attempt, stream, data, time) VALUES(?1, ?2, ?3, ?4, ?5, ?6)"
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
      record(core::to_json_text(r)) {}

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
      insert_log_(db, insert_log_sql) {}

void batch_writer::write_group(std::span<const write_batch* const> group, std::vector<std::exception_ptr>& errors) {
    errors.assign(group.size(), nullptr);
    try {
        run(begin_);
        if (group.size() == 1) {
            write(*group.front());  // the transaction itself is the unit: no savepoint needed
        } else {
            for (std::size_t i = 0; i < group.size(); ++i) errors[i] = write_isolated(*group[i]);
        }
        run(commit_);
    } catch (...) {
        const auto failure = std::make_exception_ptr(
            sqlite::storage_error(file_, "committing " + std::to_string(group.size()) + " batch(es)"));
        rollback_quietly();
        errors.assign(group.size(), failure);
    }
}

std::exception_ptr batch_writer::write_isolated(const write_batch& b) {
    run(savepoint_);
    try {
        write(b);
        run(release_);
        return nullptr;
    } catch (...) {
        auto failure = std::current_exception();
        // After an I/O error or a full disk SQLite may have rolled back the whole transaction:
        // then the group as a whole failed.
        if (sqlite3_get_autocommit(db_.getHandle()) != 0) std::rethrow_exception(failure);
        run(rollback_to_);
        run(release_);
        return failure;
    }
}

void batch_writer::write(const write_batch& b) {
    try {
        for (const auto& e : b.events) insert_event(e);
        for (const auto& j : b.jobs) upsert_job(j);
        for (const auto& a : b.agents) upsert_agent(a);
        for (const auto& l : b.logs) insert_log(l);
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
    statement_scope scope(insert_event_);
    insert_event_.bindNoCopy(1, e.stream);
    insert_event_.bind(2, static_cast<std::int64_t>(e.version));
    insert_event_.bindNoCopy(3, e.type);
    insert_event_.bindNoCopy(4, blob, static_cast<int>(size));
    insert_event_.bind(5, static_cast<std::int64_t>(e.time_ms));
    try {
        insert_event_.exec();
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
    upsert_job_.exec();
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
