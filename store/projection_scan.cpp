#include "store/projection_scan.hpp"

#include <string>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <sqlite3.h>

#include "core/error.hpp"
#include "store/sqlite/connection.hpp"
#include "store/sqlite/statement.hpp"

namespace orbitmesh::store {

namespace {

/// Steps a prepared query to its end, calling `row` for each row; errors name the file.
template <typename Row>
void each_row(const sqlite::raw_statement& q, const std::filesystem::path& file, const char* what, Row&& row) {
    try {
        sqlite3_stmt* s = q.get();
        int rc = SQLITE_ROW;
        while ((rc = sqlite3_step(s)) == SQLITE_ROW) row(s);
        if (rc != SQLITE_DONE) throw SQLite::Exception(sqlite3_db_handle(s), rc);
    } catch (const core::error&) {
        throw;
    } catch (...) {
        throw sqlite::storage_error(file, what);
    }
}

}  // namespace

struct projection_scan::impl {
    explicit impl(const std::filesystem::path& file) : db(sqlite::open_connection(file, {.use = sqlite::role::reader})) {
        db.exec("PRAGMA mmap_size=68719476736");
    }
    SQLite::Database db;
};

projection_scan::projection_scan(const std::filesystem::path& file)
    : file_(file), impl_(std::make_unique<impl>(file)) {}
projection_scan::~projection_scan() = default;

bool projection_scan::has_table(std::string_view name) {
    SQLite::Statement q(impl_->db, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?1");
    q.bind(1, std::string(name));
    q.executeStep();
    return q.getColumn(0).getInt() > 0;
}

void projection_scan::jobs(std::int64_t after, std::int64_t last, const std::function<void(const job_row_view&)>& fn) {
    const bool versioned = has_table("runs");  // schema 2 added jobs.version with the runs table
    const std::string sql = std::string("SELECT id, state, command, priority, attempt, agent_id, idempotency_key, created, "
                                        "updated, record, ") +
                            (versioned ? "coalesce(version, -1)" : "-1") + " FROM jobs WHERE rowid > ?1 AND rowid <= ?2";
    sqlite::raw_statement q(impl_->db.getHandle(), sql.c_str());
    sqlite3_bind_int64(q.get(), 1, after);
    sqlite3_bind_int64(q.get(), 2, last);
    job_row_view v;
    each_row(q, file_, "reading the jobs table", [&](sqlite3_stmt* s) {
        v.id = sqlite::column_view(s, 0);
        v.state = sqlite::column_view(s, 1);
        v.command = sqlite::column_view(s, 2);
        v.priority = sqlite3_column_int64(s, 3);
        v.attempt = sqlite3_column_int64(s, 4);
        v.agent_id = sqlite::column_view(s, 5);
        v.idempotency_key = sqlite::column_view(s, 6);
        v.created_ms = sqlite3_column_int64(s, 7);
        v.updated_ms = sqlite3_column_int64(s, 8);
        v.record = sqlite::column_view(s, 9);
        v.version = sqlite3_column_int64(s, 10);
        fn(v);
    });
}

std::int64_t projection_scan::job_rowid_max() {
    SQLite::Statement q(impl_->db, "SELECT max(rowid) FROM jobs");
    return q.executeStep() && !q.getColumn(0).isNull() ? q.getColumn(0).getInt64() : 0;
}

void projection_scan::agents(const std::function<void(const agent_row_view&)>& fn) {
    sqlite::raw_statement q(impl_->db.getHandle(), "SELECT id, name, state, record FROM agents ORDER BY id");
    agent_row_view v;
    each_row(q, file_, "reading the agents table", [&](sqlite3_stmt* s) {
        v.id = sqlite::column_view(s, 0);
        v.name = sqlite::column_view(s, 1);
        v.state = sqlite::column_view(s, 2);
        v.record = sqlite::column_view(s, 3);
        fn(v);
    });
}

void projection_scan::runs(const std::function<void(const run_row_view&)>& fn) {
    if (!has_table("runs")) return;
    sqlite::raw_statement q(impl_->db.getHandle(),
                        "SELECT id, state, workflow_id, workflow_version, parent_run, idempotency_key, created, updated,"
                        " version, record FROM runs ORDER BY id");
    run_row_view v;
    each_row(q, file_, "reading the runs table", [&](sqlite3_stmt* s) {
        v.id = sqlite::column_view(s, 0);
        v.state = sqlite::column_view(s, 1);
        v.workflow_id = sqlite::column_view(s, 2);
        v.workflow_version = sqlite::column_view(s, 3);
        v.parent_run = sqlite::column_view(s, 4);
        v.idempotency_key = sqlite::column_view(s, 5);
        v.created_ms = sqlite3_column_int64(s, 6);
        v.updated_ms = sqlite3_column_int64(s, 7);
        v.version = sqlite3_column_int64(s, 8);
        v.record = sqlite::column_view(s, 9);
        fn(v);
    });
}

void projection_scan::keys(const std::function<void(const key_row_view&)>& fn) {
    if (!has_table("idempotency_keys")) return;
    sqlite::raw_statement q(impl_->db.getHandle(), "SELECT kind, key, id, created FROM idempotency_keys ORDER BY kind, key");
    key_row_view v;
    each_row(q, file_, "reading the idempotency_keys table", [&](sqlite3_stmt* s) {
        v.kind = sqlite::column_view(s, 0);
        v.key = sqlite::column_view(s, 1);
        v.id = sqlite::column_view(s, 2);
        v.created_ms = sqlite3_column_int64(s, 3);
        fn(v);
    });
}

std::vector<snapshot_meta> projection_scan::snapshots() {
    std::vector<snapshot_meta> out;
    if (!has_table("snapshots")) return out;
    sqlite::raw_statement q(impl_->db.getHandle(), "SELECT seq, time, format, length(data) FROM snapshots ORDER BY seq");
    each_row(q, file_, "reading the snapshots table", [&](sqlite3_stmt* s) {
        out.push_back({sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1), sqlite3_column_int(s, 2),
                       static_cast<std::size_t>(sqlite3_column_int64(s, 3))});
    });
    return out;
}

std::optional<snapshot_blob> projection_scan::newest_snapshot() {
    if (!has_table("snapshots")) return std::nullopt;
    std::optional<snapshot_blob> out;
    sqlite::raw_statement q(impl_->db.getHandle(), "SELECT seq, time, format, data FROM snapshots ORDER BY seq DESC LIMIT 1");
    each_row(q, file_, "reading the newest snapshot", [&](sqlite3_stmt* s) {
        snapshot_blob b;
        b.seq = sqlite3_column_int64(s, 0);
        b.time_ms = sqlite3_column_int64(s, 1);
        b.format = sqlite3_column_int(s, 2);
        const auto* p = static_cast<const char*>(sqlite3_column_blob(s, 3));
        b.data.assign(p == nullptr ? "" : p, static_cast<std::size_t>(sqlite3_column_bytes(s, 3)));
        out = std::move(b);
    });
    return out;
}

}  // namespace orbitmesh::store
