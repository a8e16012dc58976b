#pragma once
#include <map>
#include <string>
#include <string_view>

namespace orbitmesh::transport {

/// Decodes `%XX` escapes (invalid ones are kept as written); `plus_is_space` for query parts.
std::string percent_decode(std::string_view text, bool plus_is_space);

/// Splits a request target into a decoded path and decoded query parameters (a repeated key
/// keeps its last value; a key without `=` maps to "").
void split_target(std::string_view target, std::string& path, std::map<std::string, std::string>& query);

}  // namespace orbitmesh::transport
