#pragma once
#include <nlohmann/json.hpp>

namespace orbitmesh::core {

/// The one JSON value type used for payloads, outputs, events and wire messages.
using json = nlohmann::json;

}  // namespace orbitmesh::core
