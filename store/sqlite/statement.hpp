#pragma once
#include <memory>
#include <string_view>

#include <SQLiteCpp/Statement.h>
#include <sqlite3.h>

namespace orbitmesh::store::sqlite {

/// A column's bytes as a view, valid until the statement steps again. sqlite3_column_blob, not
/// _text: _text promises a NUL at the end and so copies every value into a buffer of its own; the
/// bytes are the same (UTF-8 as stored) and a view needs no terminator.
inline std::string_view column_view(sqlite3_stmt* s, int col) {
    const auto* p = static_cast<const char*>(sqlite3_column_blob(s, col));
    return p == nullptr ? std::string_view{} : std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(s, col)));
}

/// A statement prepared once on the raw C API, for loops that run once per event (replay), where
/// SQLiteCpp's per-column shared_ptr copies show up. Finalized on destroy; not thread-safe.
class raw_statement {
public:
    /// Throws SQLite::Exception when `sql` does not prepare.
    raw_statement(sqlite3* db, const char* sql);
    sqlite3_stmt* get() const noexcept { return stmt_.get(); }

private:
    struct finalizer {
        void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
    };
    std::unique_ptr<sqlite3_stmt, finalizer> stmt_;
};

/// Resets a statement and clears its bindings when the scope ends, however it ends: a query left
/// mid-way would hold its read snapshot and keep the WAL from being checkpointed, and a kept
/// `bindNoCopy` pointer would dangle.
class statement_scope {
public:
    explicit statement_scope(SQLite::Statement& s) noexcept : cpp_(&s) {}
    explicit statement_scope(const raw_statement& s) noexcept : raw_(s.get()) {}
    statement_scope(const statement_scope&) = delete;
    statement_scope& operator=(const statement_scope&) = delete;
    ~statement_scope();

private:
    SQLite::Statement* cpp_ = nullptr;
    sqlite3_stmt* raw_ = nullptr;
};

/// Executes a statement that returns no rows, then resets it and clears its bindings.
void run(SQLite::Statement& s);

}  // namespace orbitmesh::store::sqlite
