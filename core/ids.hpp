#pragma once
#include <string>

namespace orbitmesh::core {

/// A new time-ordered id (UUIDv7, lower-case hex with dashes). Thread-safe.
std::string new_id();

}  // namespace orbitmesh::core
