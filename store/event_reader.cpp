#include "store/event_reader.hpp"

#include <limits>
#include <string_view>
#include <utility>

#include <SQLiteCpp/Exception.h>

#include "core/error.hpp"
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
      logs_(db_, "SELECT job_id, seq, attempt, stream, data, time FROM job_logs"
                 " WHERE job_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3"),
      last_seq_(db_, "SELECT coalesce(max(seq), 0) FROM events") {}

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
        }
        return out;
    } catch (...) {
        throw sqlite::storage_error(file_, "loading the output of job " + job_id);
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
