#pragma once
#include <cstddef>
#include <string_view>

namespace orbitmesh::engine {

/// Estimates how deeply YAML text nests without parsing it: flow brackets `[ {` outside
/// quotes and comments, plus block indentation levels and compact `- - -` entries. It may
/// overcount a little, never undercount by much, and runs in one linear pass.
/// yaml-cpp parses recursively, so a 10,000-deep file must be refused before it gets there.
/// Throws source_error at the first line that passes `max_depth`.
void prescan_yaml_depth(std::string_view text, std::size_t max_depth);

}  // namespace orbitmesh::engine
