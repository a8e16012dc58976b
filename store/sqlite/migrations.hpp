#pragma once
#include <filesystem>
#include <span>
#include <string_view>

#include <SQLiteCpp/Database.h>

namespace orbitmesh::store::sqlite {

/// Brings `db` from its `PRAGMA user_version` to `steps.size()` by running steps[version..] in
/// one IMMEDIATE transaction (all or nothing). `what` names the file's purpose in messages
/// ("store", "outbox"). Throws core::error{storage} when the file was written by a newer schema.
void migrate(SQLite::Database& db, const std::filesystem::path& file, std::string_view what,
             std::span<const std::string_view> steps);

/// The file's schema version (`PRAGMA user_version`).
int schema_version(SQLite::Database& db);

}  // namespace orbitmesh::store::sqlite
