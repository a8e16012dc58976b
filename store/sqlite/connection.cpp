#include "store/sqlite/connection.hpp"

#include <string>

#include <SQLiteCpp/Exception.h>
#include <SQLiteCpp/Statement.h>
#include <sqlite3.h>

namespace orbitmesh::store::sqlite {
namespace {

namespace fs = std::filesystem;

// Long enough to ride out an offline command (`replay`, `token create`) holding a lock briefly.
constexpr int busy_timeout_ms = 5000;


core::error damaged(const fs::path& file, std::string_view cause) {
    return core::error{core::error_kind::storage,
                       "store " + file.string() + " is damaged: " + std::string(cause) +
                           "; restore it from a backup or move it aside"};
}

// Maps SQLite's primary result codes onto what an operator can do about them.
core::error classify(const fs::path& file, std::string_view doing, int code, const std::string& cause) {
    const std::string name = file.string();
    const std::string what = std::string(doing);
    switch (code & 0xff) {
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
        return damaged(file, cause);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return core::error{core::error_kind::storage,
                           "store " + name + " is locked by another process while " + what + " (" + cause +
                               "); stop the other orbitmesh process using this data dir and retry"};
    case SQLITE_FULL:
        return core::error{core::error_kind::storage,
                           "store " + name + ": disk full while " + what + " (" + cause + "); free some space and retry"};
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_AUTH:
        return core::error{core::error_kind::storage,
                           "cannot use store " + name + " while " + what + ": " + cause +
                               "; check that the file and its directory exist and are writable by this user"};
    case SQLITE_IOERR:
        return core::error{core::error_kind::storage,
                           "store " + name + ": I/O error while " + what + " (" + cause +
                               "); check the disk, then run `orbitmesh replay --verify`"};
    default:
        return core::error{core::error_kind::storage, "store " + name + ": " + what + " failed: " + cause};
    }
}

// quick_check reports span lines ("*** in database main ***\nPage 8: ..."); errors are one line.
std::string one_line(std::string text) {
    constexpr std::string_view banner = "*** in database main ***";
    if (text.rfind(banner, 0) == 0) text.erase(0, banner.size());
    std::string out;
    for (char c : text) {
        if (c != '\n' && c != '\r') {
            out += c;
        } else if (!out.empty() && out.back() != ' ') {
            out += "; ";
        }
    }
    return out;
}

void apply_pragmas(SQLite::Database& db, const connection_options& opts) {
    if (opts.use == role::writer) {
        // The first statement that reads the header: a non-database file fails here with NOTADB.
        const std::string mode = db.execAndGet("PRAGMA journal_mode=WAL").getString();
        if (mode != "wal") {
            throw SQLite::Exception("journal_mode is \"" + mode + "\", WAL could not be enabled", SQLITE_CANTOPEN);
        }
    }
    db.exec("PRAGMA foreign_keys=ON");
    db.exec(opts.sync_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
    if (!opts.auto_checkpoint) {
        // SQLite's automatic checkpoint runs inside a commit and spikes its latency; we checkpoint
        // from a separate connection instead.
        db.exec("PRAGMA wal_autocheckpoint=0");
    }
}

}  // namespace

SQLite::Database open_connection(const fs::path& file, const connection_options& opts) {
    if (opts.use == role::writer && file.has_parent_path()) {
        std::error_code ec;
        fs::create_directories(file.parent_path(), ec);
        if (ec) {
            throw core::error{core::error_kind::storage, "cannot create directory " + file.parent_path().string() +
                                                             " for store " + file.string() + ": " + ec.message() +
                                                             "; check the --data-dir path and its permissions"};
        }
    }
    try {
        int flags = SQLite::OPEN_NOMUTEX;  // each connection is used by one thread at a time
        flags |= opts.use == role::reader ? SQLite::OPEN_READONLY : SQLite::OPEN_READWRITE;
        if (opts.use == role::writer) flags |= SQLite::OPEN_CREATE;
        SQLite::Database db(file, flags, busy_timeout_ms);
        apply_pragmas(db, opts);
        return db;
    } catch (...) {
        throw storage_error(file, "opening it");
    }
}

void check_integrity(SQLite::Database& db, const fs::path& file) {
    std::string problems;
    try {
        // The check reads every page: mapped, it takes a third of the time (0.45 s instead of
        // 1.2 s for a million events here), which is most of a hub's start-up. Only for the check:
        // the writer itself does not need the mapping.
        db.exec("PRAGMA mmap_size=68719476736");
        struct unmap {
            SQLite::Database& db;
            ~unmap() {
                try {
                    db.exec("PRAGMA mmap_size=0");
                } catch (...) {
                }
            }
        } restore{db};
        SQLite::Statement check(db, "PRAGMA quick_check(3)");
        while (check.executeStep()) {
            const std::string row = check.getColumn(0).getString();
            if (row == "ok") return;
            problems += problems.empty() ? one_line(row) : "; " + one_line(row);
        }
    } catch (...) {
        throw storage_error(file, "checking its integrity");
    }
    throw damaged(file, problems.empty() ? "the integrity check returned nothing" : problems);
}

core::error storage_error(const fs::path& file, std::string_view doing, std::exception_ptr e) {
    try {
        std::rethrow_exception(e);
    } catch (const core::error& err) {
        return err;
    } catch (const SQLite::Exception& err) {
        return classify(file, doing, err.getErrorCode(), err.what());
    } catch (const std::exception& err) {
        return core::error{core::error_kind::storage,
                           "store " + file.string() + ": " + std::string(doing) + " failed: " + err.what()};
    } catch (...) {
        return core::error{core::error_kind::storage,
                           "store " + file.string() + ": " + std::string(doing) + " failed with an unknown error"};
    }
}

core::error storage_error(const fs::path& file, std::string_view doing) {
    return storage_error(file, doing, std::current_exception());
}

}  // namespace orbitmesh::store::sqlite
