#include "store/sqlite/statement.hpp"

#include <SQLiteCpp/Exception.h>

namespace orbitmesh::store::sqlite {

raw_statement::raw_statement(sqlite3* db, const char* sql) {
    sqlite3_stmt* s = nullptr;
    // PERSISTENT: these statements live as long as the connection and run millions of times.
    const int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr);
    stmt_.reset(s);
    if (rc != SQLITE_OK) throw SQLite::Exception(db, rc);
}

statement_scope::~statement_scope() {
    if (cpp_ != nullptr) {
        cpp_->tryReset();
        try {
            cpp_->clearBindings();  // sqlite3_clear_bindings cannot fail; SQLiteCpp still declares a throw
        } catch (...) {
        }
    }
    if (raw_ != nullptr) {
        sqlite3_reset(raw_);
        sqlite3_clear_bindings(raw_);
    }
}

void run(SQLite::Statement& s) {
    statement_scope scope(s);
    s.exec();
}

}  // namespace orbitmesh::store::sqlite
