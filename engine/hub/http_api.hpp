#pragma once
#include <map>
#include <memory>
#include <string>

#include "engine/hub/hub.hpp"
#include "transport/http_types.hpp"

namespace orbitmesh::engine {

/// More routes under `/api/v1/<collection>/…`, by collection name ("workflows", "runs", ...).
using extra_routes = std::map<std::string, transport::http_handler>;

/// The HTTP/JSON API of docs/http-api.md over a hub. Thread-safe; replies may come later. A
/// route handler may throw core::error; it becomes the JSON error response.
transport::http_handler make_http_api(std::shared_ptr<hub> h, extra_routes extra = {});

}  // namespace orbitmesh::engine
