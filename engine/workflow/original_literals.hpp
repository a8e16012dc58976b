#pragma once
#include <string_view>

#include "engine/workflow/build_context.hpp"
#include "engine/workflow/source_node.hpp"

// Internal to the workflow loader (docs/original-format.md, "Mixed files").
namespace orbitmesh::engine {

/// In a file read in OrbitMesh's format (it writes `${{ … }}`), a step value holding the original
/// format's `${input.name}` stays literal text: warns at its line, with the `${{ … }}` to write.
/// Only dotted paths are taken for the original's (`${HOME}` in a payload is left alone), and
/// never in `run:`/`script:` text (shell or JavaScript) nor in `condition`, `expression` and
/// `collection`, where SPEC §4 reads `${path}` as an expression.
void warn_original_literals(const source_node& root, diagnostics_sink& sink);

/// The original format's keys whose value is a nested list of steps (`steps`, `branches`, …).
bool is_original_step_list(std::string_view key);

}  // namespace orbitmesh::engine
