#pragma once
#include "engine/hub/route_table.hpp"

namespace orbitmesh::engine {

/// Adds the dashboard (docs/dashboard.md): `GET /` (the page) and `GET /ui/{file}` (its scripts and
/// style), served from the embedded assets with an ETag and `Cache-Control: no-cache` (a reload
/// revalidates; an unchanged file answers 304). Open routes: the files hold no data, and every
/// API call the page makes carries the operator's token. Handlers are thread-safe.
void add_dashboard_routes(route_table& table);

}  // namespace orbitmesh::engine
