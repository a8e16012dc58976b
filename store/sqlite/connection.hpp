#pragma once
#include <exception>
#include <filesystem>
#include <string_view>

#include <SQLiteCpp/Database.h>

#include "core/error.hpp"

namespace orbitmesh::store::sqlite {

/// What a connection is for; decides how it is opened and which pragmas it gets.
enum class role {
    writer,        // creates the file; the only connection that writes rows
    reader,        // read-only; never blocks the writer (WAL)
    checkpointer,  // copies the WAL back into the database off the commit path
};

struct connection_options {
    role use = role::writer;
    bool sync_full = true;          // synchronous=FULL (fsync per commit), else NORMAL
    bool auto_checkpoint = false;   // leave SQLite's in-commit WAL checkpoint on (small files only)
};

/// Opens `file` (a writer also creates it and its parent directories) in WAL mode with
/// foreign_keys=ON, busy_timeout=5000 and the asked synchronous level.
/// Throws core::error{storage} naming the file, the cause and the fix.
SQLite::Database open_connection(const std::filesystem::path& file, const connection_options& opts);

/// Runs `PRAGMA quick_check`; throws core::error{storage} "store FILE is damaged: ..." when it fails.
void check_integrity(SQLite::Database& db, const std::filesystem::path& file);

/// Turns a failure while `doing` something with `file` into a core::error that names the file,
/// the cause and, where one exists, the fix. Passes core::error through unchanged.
core::error storage_error(const std::filesystem::path& file, std::string_view doing, std::exception_ptr e);

/// Same, for the exception being handled right now (call inside a catch block).
core::error storage_error(const std::filesystem::path& file, std::string_view doing);

}  // namespace orbitmesh::store::sqlite
