#include "store/event_reader.hpp"

#include <algorithm>
#include <limits>
#include <string_view>
#include <utility>

#include <SQLiteCpp/Exception.h>

#include "core/error.hpp"
#include "core/upcast.hpp"
#include "store/sqlite/connection.hpp"

namespace orbitmesh::store {
namespace {

using sqlite::statement_scope;

constexpr const char* all_events_sql =
    "SELECT seq, stream, version, type, data, time FROM events WHERE seq > ?1 ORDER BY seq";
constexpr const char* stream_events_sql =
    "SELECT seq, stream, version, type, data, time FROM events WHERE stream = ?2 AND seq > ?1 ORDER BY seq";

// A range on the UNIQUE(stream, version) index: "token-" <= stream < "token." (the prefix with its
// last byte bumped), then sorted by seq; only the matching streams' rows are read.
constexpr const char* prefix_events_sql =
    "SELECT seq, stream, version, type, data, time FROM events WHERE stream >= ?1 AND stream < ?2 ORDER BY seq";

std::string_view text_column(sqlite3_stmt* s, int col) {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, col));
    return p == nullptr ? std::string_view{} : std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(s, col)));
}

// Fills `e` in place so replay reuses the strings' buffers instead of allocating per event.
void read_event(sqlite3_stmt* s, core::event& e) {
    e.seq = sqlite3_column_int64(s, 0);
    e.stream.assign(text_column(s, 1));
    e.version = sqlite3_column_int64(s, 2);
    e.type.assign(text_column(s, 3));
    const auto* data = static_cast<const std::uint8_t*>(sqlite3_column_blob(s, 4));
    const auto size = static_cast<std::size_t>(sqlite3_column_bytes(s, 4));
    e.data = data == nullptr ? core::json() : core::json::from_msgpack(data, data + size);
    e.time_ms = sqlite3_column_int64(s, 5);
    core::upcast(e);  // written by an older build: brought to this build's schema before any fold
}

template <typename Record, typename Parse>
std::vector<Record> load_records(SQLite::Statement& query, const std::filesystem::path& file, std::string_view what,
                                 Parse parse) {
    statement_scope scope(query);
    std::vector<Record> out;
    while (query.executeStep()) {
        const char* id = query.getColumn(0).getText();
        try {
            out.push_back(parse(core::json::parse(query.getColumn(1).getText())));
        } catch (const std::exception& e) {
            throw core::error{core::error_kind::storage,
                              "store " + file.string() + ": the " + std::string(what) + " record of " + id +
                                  " is unreadable (" + e.what() + "); run `orbitmesh replay --verify`"};
        }
    }
    return out;
}

}  // namespace

event_reader::event_reader(std::filesystem::path file)
    : file_(std::move(file)),
      db_(sqlite::open_connection(file_, {.use = sqlite::role::reader})),
      all_events_(db_.getHandle(), all_events_sql),
      stream_events_(db_.getHandle(), stream_events_sql),
      prefix_events_(db_.getHandle(), prefix_events_sql),
      jobs_(db_, "SELECT id, record FROM jobs ORDER BY id"),
      agents_(db_, "SELECT id, record FROM agents ORDER BY id"),
      logs_(db_, "SELECT job_id, seq, attempt, stream, data, time, coalesce(agent_seq, 0) FROM job_logs"
                 " WHERE job_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3"),
      last_seq_(db_, "SELECT coalesce(max(seq), 0) FROM events"),
      job_versions_(db_, "SELECT id, coalesce(version, -1) FROM jobs"),
      job_(db_, "SELECT id, record FROM jobs WHERE id = ?1"),
      run_(db_, "SELECT id, record FROM runs WHERE id = ?1"),
      run_counts_(db_, "SELECT state, count(*) FROM runs GROUP BY state"),
      workflow_run_counts_(db_, "SELECT coalesce(workflow_id, ''), state, count(*) FROM runs GROUP BY 1, 2"),
      snapshot_(db_, "SELECT seq, time, format, data FROM snapshots ORDER BY seq DESC LIMIT 1") {}

void event_reader::for_each_event(const std::function<void(const core::event&)>& fn, std::int64_t after_seq,
                                  const std::string& stream) {
    const auto& query = stream.empty() ? all_events_ : stream_events_;
    statement_scope scope(query);
    sqlite3_bind_int64(query.get(), 1, after_seq);
    if (!stream.empty()) sqlite3_bind_text(query.get(), 2, stream.data(), static_cast<int>(stream.size()), SQLITE_STATIC);
    scan(query, fn);
}

void event_reader::for_each_event_in(std::string_view prefix, const std::function<void(const core::event&)>& fn) {
    if (prefix.empty() || static_cast<unsigned char>(prefix.back()) == 0xff)
        throw core::error{core::error_kind::internal, "for_each_event_in needs a prefix not ending in 0xff"};
    std::string upper(prefix);
    upper.back() = static_cast<char>(upper.back() + 1);
    statement_scope scope(prefix_events_);
    sqlite3_bind_text(prefix_events_.get(), 1, prefix.data(), static_cast<int>(prefix.size()), SQLITE_STATIC);
    sqlite3_bind_text(prefix_events_.get(), 2, upper.data(), static_cast<int>(upper.size()), SQLITE_STATIC);
    scan(prefix_events_, fn);
}

void event_reader::scan(const sqlite::raw_statement& query, const std::function<void(const core::event&)>& fn) {
    sqlite3_stmt* s = query.get();
    core::event e;
    int rc = SQLITE_ROW;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        try {
            read_event(s, e);
        } catch (const core::json::exception&) {
            e.data = core::json(core::json::value_t::discarded);  // the caller decides (the hub skips it)
        }
        fn(e);  // the caller's exceptions pass through untouched; the scope still resets the query
    }
    if (rc != SQLITE_DONE) {
        throw sqlite::storage_error(file_, "reading events", std::make_exception_ptr(SQLite::Exception(db_.getHandle(), rc)));
    }
}

std::vector<core::job_record> event_reader::load_jobs() {
    try {
        return load_records<core::job_record>(jobs_, file_, "job", [](const core::json& j) { return core::job_record_from_json(j); });
    } catch (...) {
        throw sqlite::storage_error(file_, "loading jobs");
    }
}

std::vector<core::agent_record> event_reader::load_agents() {
    try {
        return load_records<core::agent_record>(agents_, file_, "agent",
                                                [](const core::json& j) { return core::agent_record_from_json(j); });
    } catch (...) {
        throw sqlite::storage_error(file_, "loading agents");
    }
}

std::vector<log_line> event_reader::load_logs(const std::string& job_id, std::int64_t after_seq, std::size_t limit) {
    try {
        statement_scope scope(logs_);
        logs_.bindNoCopy(1, job_id);
        logs_.bind(2, static_cast<std::int64_t>(after_seq));
        const auto max = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
        logs_.bind(3, static_cast<std::int64_t>(limit < max ? limit : max));
        std::vector<log_line> out;
        while (logs_.executeStep()) {
            auto& l = out.emplace_back();
            l.job_id = logs_.getColumn(0).getString();
            l.seq = logs_.getColumn(1).getInt64();
            l.attempt = logs_.getColumn(2).getInt();
            l.stream = logs_.getColumn(3).getString();
            l.data = logs_.getColumn(4).getString();
            l.time_ms = logs_.getColumn(5).getInt64();
            l.agent_seq = logs_.getColumn(6).getInt64();
        }
        return out;
    } catch (...) {
        throw sqlite::storage_error(file_, "loading the output of job " + job_id);
    }
}

std::vector<std::pair<std::string, std::int64_t>> event_reader::load_job_versions() {
    try {
        statement_scope scope(job_versions_);
        std::vector<std::pair<std::string, std::int64_t>> out;
        while (job_versions_.executeStep())
            out.emplace_back(job_versions_.getColumn(0).getString(), job_versions_.getColumn(1).getInt64());
        return out;
    } catch (...) {
        throw sqlite::storage_error(file_, "loading the versions of job rows");
    }
}

std::optional<core::job_record> event_reader::load_job(const std::string& id) {
    try {
        statement_scope scope(job_);
        job_.bindNoCopy(1, id);
        auto rows = load_records<core::job_record>(job_, file_, "job", [](const core::json& j) { return core::job_record_from_json(j); });
        if (rows.empty()) return std::nullopt;
        return std::move(rows.front());
    } catch (...) {
        throw sqlite::storage_error(file_, "loading job " + id);
    }
}

namespace {

// Newest first, filtered: the pages `job list` and `GET /api/v1/runs` read beyond what the hub
// keeps in memory. Values are bound; only the shape of the WHERE clause varies.
std::string page_sql(const char* table, const std::string& state, const std::string& before) {
    std::string sql = std::string("SELECT id, record FROM ") + table + " WHERE 1";
    if (!state.empty()) sql += " AND state = ?2";
    if (!before.empty()) sql += " AND id < ?3";
    return sql + " ORDER BY id DESC LIMIT ?1";
}

template <typename Record, typename Parse>
std::vector<Record> load_page(SQLite::Database& db, const std::filesystem::path& file, const char* table,
                              std::size_t limit, const std::string& state, const std::string& before, Parse parse) {
    SQLite::Statement q(db, page_sql(table, state, before));
    q.bind(1, static_cast<std::int64_t>(std::min<std::size_t>(limit, 1'000'000)));
    if (!state.empty()) q.bind(2, state);
    if (!before.empty()) q.bind(3, before);
    return load_records<Record>(q, file, table, parse);
}

}  // namespace

std::vector<core::job_record> event_reader::load_jobs_page(std::size_t limit, const std::string& state,
                                                           const std::string& before) {
    try {
        return load_page<core::job_record>(db_, file_, "jobs", limit, state, before,
                                           [](const core::json& j) { return core::job_record_from_json(j); });
    } catch (...) {
        throw sqlite::storage_error(file_, "listing jobs");
    }
}

std::optional<core::json> event_reader::load_run(const std::string& id) {
    try {
        statement_scope scope(run_);
        run_.bindNoCopy(1, id);
        auto rows = load_records<core::json>(run_, file_, "run", [](core::json j) { return j; });
        if (rows.empty()) return std::nullopt;
        return std::move(rows.front());
    } catch (...) {
        throw sqlite::storage_error(file_, "loading run " + id);
    }
}

std::vector<core::json> event_reader::load_runs_page(std::size_t limit, const std::string& state,
                                                     const std::string& before) {
    try {
        return load_page<core::json>(db_, file_, "runs", limit, state, before, [](core::json j) { return j; });
    } catch (...) {
        throw sqlite::storage_error(file_, "listing runs");
    }
}

std::map<std::string, std::int64_t> event_reader::count_runs() {
    try {
        statement_scope scope(run_counts_);
        std::map<std::string, std::int64_t> out;
        while (run_counts_.executeStep()) out[run_counts_.getColumn(0).getString()] = run_counts_.getColumn(1).getInt64();
        return out;
    } catch (...) {
        throw sqlite::storage_error(file_, "counting runs");
    }
}

std::map<std::pair<std::string, std::string>, std::int64_t> event_reader::count_runs_by_workflow() {
    try {
        statement_scope scope(workflow_run_counts_);
        std::map<std::pair<std::string, std::string>, std::int64_t> out;
        while (workflow_run_counts_.executeStep())
            out[{workflow_run_counts_.getColumn(0).getString(), workflow_run_counts_.getColumn(1).getString()}] =
                workflow_run_counts_.getColumn(2).getInt64();
        return out;
    } catch (...) {
        throw sqlite::storage_error(file_, "counting runs per workflow");
    }
}

std::optional<snapshot_blob> event_reader::load_snapshot() {
    try {
        statement_scope scope(snapshot_);
        if (!snapshot_.executeStep()) return std::nullopt;
        snapshot_blob b;
        b.seq = snapshot_.getColumn(0).getInt64();
        b.time_ms = snapshot_.getColumn(1).getInt64();
        b.format = snapshot_.getColumn(2).getInt();
        const auto data = snapshot_.getColumn(3);
        b.data.assign(static_cast<const char*>(data.getBlob()), static_cast<std::size_t>(data.getBytes()));
        return b;
    } catch (...) {
        throw sqlite::storage_error(file_, "loading the newest snapshot");
    }
}

std::int64_t event_reader::last_seq() {
    try {
        statement_scope scope(last_seq_);
        last_seq_.executeStep();
        return last_seq_.getColumn(0).getInt64();
    } catch (...) {
        throw sqlite::storage_error(file_, "reading the last event seq");
    }
}

}  // namespace orbitmesh::store
