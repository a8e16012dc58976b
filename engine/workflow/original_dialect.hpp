#pragma once
#include <string>
#include <string_view>

#include "core/workflow.hpp"
#include "engine/workflow/build_context.hpp"
#include "engine/workflow/source_node.hpp"

// Internal to the workflow loader: the original OrbitMesh's dialect (docs/original-format.md).
namespace orbitmesh::engine {

/// Why the file is in the original dialect ("it uses type: script (line 57)"), or "" when it is
/// in ours. `format: original|orbitmesh` at the top decides; otherwise a file that never writes
/// `${{` and uses the original's step types, `args:`, `language:`, its triggers, or `${…}` in a
/// step value is the original's.
std::string detect_original_dialect(const source_node& root, std::string_view text, diagnostics_sink& sink);

/// Makes a file of the original dialect mean what it meant there: every `${X}` becomes our
/// `${{ X }}` when our language reads X the same, else `${{ __js.eN }}` with X kept in the
/// step's `js` list for the JavaScript engine; expression fields and computed timeouts likewise;
/// the steps of each list (except parallel branches, which ran at once) wait for the step before
/// them, as the original ran them one after another; and each `pattern:` job answers with the
/// per-agent list or one result, as the file reads it (original_pattern.hpp).
void apply_original_dialect(core::workflow& wf, diagnostics_sink& sink);

/// True when `expr` is JavaScript our expression language would read differently or not at all.
bool needs_javascript(std::string_view expr);

}  // namespace orbitmesh::engine
