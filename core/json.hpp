#pragma once
#include <string>

#include <nlohmann/json.hpp>

namespace orbitmesh::core {

/// The one JSON value type used for payloads, outputs, events and wire messages.
using json = nlohmann::json;

/// `j[key]` when `j` is an object holding a string there, else "" (absent, null, not a string).
inline std::string string_at(const json& j, const char* key) {
    if (!j.is_object()) return {};
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

}  // namespace orbitmesh::core
