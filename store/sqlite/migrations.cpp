#include "store/sqlite/migrations.hpp"

#include <string>

#include <SQLiteCpp/Transaction.h>

#include "core/error.hpp"
#include "store/sqlite/connection.hpp"

namespace orbitmesh::store::sqlite {

int schema_version(SQLite::Database& db) { return db.execAndGet("PRAGMA user_version").getInt(); }

void migrate(SQLite::Database& db, const std::filesystem::path& file, std::string_view what,
             std::span<const std::string_view> steps) {
    const int known = static_cast<int>(steps.size());
    int version = 0;
    try {
        // IMMEDIATE: two processes opening a fresh data dir at once must not both migrate it.
        SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
        version = schema_version(db);
        if (version > known) {
            throw core::error{core::error_kind::storage,
                              std::string(what) + " " + file.string() + " has schema version " +
                                  std::to_string(version) + " but this orbitmesh knows only up to " +
                                  std::to_string(known) +
                                  "; it was written by a newer orbitmesh: upgrade, or use another data dir"};
        }
        if (version == known) return;
        for (int v = version; v < known; ++v) db.exec(std::string(steps[static_cast<std::size_t>(v)]));
        // PRAGMA takes no bound parameters; the value is our own integer.
        db.exec("PRAGMA user_version=" + std::to_string(known));
        tx.commit();
    } catch (...) {
        // core::error (the version check above) passes through unchanged.
        throw storage_error(file, "migrating its schema from version " + std::to_string(version) + " to " +
                                      std::to_string(known));
    }
}

}  // namespace orbitmesh::store::sqlite
