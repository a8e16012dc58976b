#include "store/outbox.hpp"

#include <string_view>
#include <utility>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <sqlite3.h>

#include "core/error.hpp"
#include "store/sqlite/connection.hpp"
#include "store/sqlite/migrations.hpp"
#include "store/sqlite/statement.hpp"

namespace orbitmesh::store {
namespace {

using sqlite::statement_scope;

// Version 1. Rows keep their rowid across a replace (upsert), so `ORDER BY rowid` is the order
// results were first written, which is the order they are resent in.
constexpr std::string_view v1 = R"sql(
CREATE TABLE results(
    job_id  TEXT NOT NULL,
    attempt INT  NOT NULL,
    result  TEXT NOT NULL,
    PRIMARY KEY(job_id, attempt)
);
)sql";
constexpr std::string_view migrations[] = {v1};

std::string attempt_name(const std::string& job_id, int attempt) {
    return "job " + job_id + " attempt " + std::to_string(attempt);
}

SQLite::Database open_outbox(const std::filesystem::path& file) {
    // The outbox stays tiny, so SQLite's own checkpoint inside a commit costs nothing worth a thread.
    auto db = sqlite::open_connection(file, {.use = sqlite::role::writer, .sync_full = true, .auto_checkpoint = true});
    sqlite::check_integrity(db, file);
    sqlite::migrate(db, file, "outbox", migrations);
    return db;
}

class sqlite_outbox final : public outbox {
public:
    explicit sqlite_outbox(std::filesystem::path file)
        : file_(std::move(file)),
          db_(open_outbox(file_)),
          put_(db_, "INSERT INTO results(job_id, attempt, result) VALUES(?1, ?2, ?3)"
                    " ON CONFLICT(job_id, attempt) DO UPDATE SET result = excluded.result"),
          get_(db_, "SELECT result FROM results WHERE job_id = ?1 AND attempt = ?2"),
          remove_(db_, "DELETE FROM results WHERE job_id = ?1 AND attempt = ?2"),
          pending_(db_, "SELECT job_id, attempt, result FROM results ORDER BY rowid") {}

    void put(const entry& e) override {
        try {
            const std::string text = e.result.dump(-1, ' ', false, core::json::error_handler_t::replace);
            statement_scope scope(put_);
            put_.bindNoCopy(1, e.job_id);
            put_.bind(2, e.attempt);
            put_.bindNoCopy(3, text);
            put_.exec();  // autocommit with synchronous=FULL: durable when this returns
        } catch (...) {
            throw sqlite::storage_error(file_, "saving the result of " + attempt_name(e.job_id, e.attempt));
        }
    }

    std::optional<entry> get(const std::string& job_id, int attempt) override {
        try {
            statement_scope scope(get_);
            get_.bindNoCopy(1, job_id);
            get_.bind(2, attempt);
            if (!get_.executeStep()) return std::nullopt;
            return entry{job_id, attempt, core::json::parse(get_.getColumn(0).getString())};
        } catch (...) {
            throw sqlite::storage_error(file_, "reading the result of " + attempt_name(job_id, attempt));
        }
    }

    void remove(const std::string& job_id, int attempt) override {
        try {
            statement_scope scope(remove_);
            remove_.bindNoCopy(1, job_id);
            remove_.bind(2, attempt);
            remove_.exec();
        } catch (...) {
            throw sqlite::storage_error(file_, "removing the result of " + attempt_name(job_id, attempt));
        }
    }

    std::vector<entry> pending() override {
        try {
            statement_scope scope(pending_);
            std::vector<entry> out;
            while (pending_.executeStep()) {
                out.push_back(entry{pending_.getColumn(0).getString(), pending_.getColumn(1).getInt(),
                                    core::json::parse(pending_.getColumn(2).getString())});
            }
            return out;
        } catch (...) {
            throw sqlite::storage_error(file_, "listing unacknowledged results");
        }
    }

    void begin_group() override {
        try {
            db_.exec("BEGIN IMMEDIATE");
        } catch (...) {
            throw sqlite::storage_error(file_, "starting a write");
        }
    }

    void commit_group() override {
        try {
            db_.exec("COMMIT");
        } catch (...) {
            throw sqlite::storage_error(file_, "committing results");
        }
    }

    void rollback_group() noexcept override {
        try {
            if (!db_.getHandle() || sqlite3_get_autocommit(db_.getHandle()) == 0) db_.exec("ROLLBACK");
        } catch (...) {
        }
    }

private:
    std::filesystem::path file_;
    SQLite::Database db_;
    SQLite::Statement put_, get_, remove_, pending_;
};

}  // namespace

std::unique_ptr<outbox> outbox::open(const std::filesystem::path& file) {
    try {
        return std::make_unique<sqlite_outbox>(file);
    } catch (...) {
        throw sqlite::storage_error(file, "opening it");  // core::error passes through as is
    }
}

}  // namespace orbitmesh::store
