#pragma once
#include <memory>

#include "engine/hub/hub.hpp"
#include "transport/http_types.hpp"

namespace orbitmesh::engine {

/// The HTTP/JSON API of docs/http-api.md over a hub. Thread-safe; replies may come later.
transport::http_handler make_http_api(std::shared_ptr<hub> h);

}  // namespace orbitmesh::engine
