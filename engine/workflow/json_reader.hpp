#pragma once
#include <string_view>

#include "engine/workflow/source_node.hpp"

namespace orbitmesh::engine {

/// Reads JSON text into a located tree with nlohmann's SAX parser (iterative, so depth is
/// bounded by `limits`, not by the stack). Lines come from the byte offsets the parser has
/// reached when each value ends. Throws source_error for syntax errors and limits.
source_node read_json(std::string_view text, const reader_limits& limits);

}  // namespace orbitmesh::engine
