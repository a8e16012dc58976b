#pragma once
#include <string>
#include <vector>

#include "core/json.hpp"

namespace orbitmesh::cli {

/// Aligned columns on stdout, one header row.
void print_table(const std::vector<std::string>& headers, const std::vector<std::vector<std::string>>& rows);
/// Pretty JSON on stdout for `-o json`, compact single line for `-o ndjson`.
void print_json(const core::json& j, bool one_line = false);
/// A job output value as text: strings as they are, anything else as JSON.
std::string output_text(const core::json& output);
/// A cell for a JSON value that may be missing or null.
std::string cell(const core::json& j, const char* key);
/// Throws core::error{usage} unless `format` is table, json or ndjson.
void check_format(const std::string& format);

}  // namespace orbitmesh::cli
