#pragma once
#include <string_view>

#include "engine/workflow/source_node.hpp"

namespace orbitmesh::engine {

/// Reads one YAML document into a located tree, from yaml-cpp's event stream (no YAML::Node),
/// expanding aliases under the budget of `limits` and honouring `<<` merge keys.
/// Throws source_error for syntax errors, a second document, deep nesting or alias bombs.
source_node read_yaml(std::string_view text, const reader_limits& limits);

}  // namespace orbitmesh::engine
