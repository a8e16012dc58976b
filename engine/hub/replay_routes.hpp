#pragma once
#include <filesystem>

#include "engine/hub/http_api.hpp"

namespace orbitmesh::engine {

/// The read-only replay routes of docs/http-api.md, over the hub's own store file:
/// `GET /api/v1/replay[?until=]` (summary), `GET /api/v1/replay/ID[?until=]` (timeline),
/// `GET /api/v1/replay/ID/chrome-trace[?until=]`, `GET /api/v1/verify`. Each request runs on a
/// thread of its own with its own read connection (never on the hub strand or an io thread);
/// at most two at once, more get 503.
extra_routes make_replay_routes(std::filesystem::path store_file);

}  // namespace orbitmesh::engine
