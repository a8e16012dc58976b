#pragma once
#include <string>

#include "core/json.hpp"

namespace orbitmesh::engine {

/// The OpenAPI 3.0 document of the hub's HTTP API (`GET /api/v1/openapi.json`), written from its
/// own table of operations (summaries, parameters, responses) — not from the router, so the
/// drift test (tests/e2e/test_openapi.py) can hold the two against each other.
core::json openapi_document(const std::string& version);

}  // namespace orbitmesh::engine
