#pragma once
#include <filesystem>
#include <string>

#include "engine/hub/http_api.hpp"

namespace orbitmesh::engine {

/// Adds the read-only replay routes of docs/http-api.md over the hub's own store file, for
/// operators (and admins): `GET /api/v1/replay[?until=]` (summary), `GET /api/v1/replay/{id}[?until=]`
/// (timeline), `GET /api/v1/replay/{id}/chrome-trace[?until=]`, `GET /api/v1/verify`. Each request
/// runs on a thread of its own with its own read connection (never on the hub strand or an io
/// thread); at most two at once, more get 503. With a PostgreSQL store (`store_url`), each
/// request reads a consistent copy of it (store::sqlite_view).
void add_replay_routes(route_table& table, std::filesystem::path store_file, std::string store_url = {});

}  // namespace orbitmesh::engine
