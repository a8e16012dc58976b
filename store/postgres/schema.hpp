#pragma once
#include "store/postgres/connection.hpp"

namespace orbitmesh::store::postgres {

/// Brings the database to the current schema: versioned steps in one transaction, under an
/// advisory lock so several hubs starting at once migrate it once. Throws core::error{storage}
/// when the database was written by a newer orbitmesh.
void migrate(connection& db);

/// The advisory lock key every appending transaction takes first (see pg_writer).
constexpr std::int64_t append_lock_key = 0x6f726269746d65;  // "orbitme"
/// The session advisory lock the active hub's writer connection holds (event_store::options::exclusive).
constexpr std::int64_t hub_lock_key = 0x6f726269746875;  // "orbithu"

}  // namespace orbitmesh::store::postgres
