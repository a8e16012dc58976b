#pragma once
#include <string>
#include <vector>

#include "core/workflow_diagnostic.hpp"
#include "engine/workflow/js_engine.hpp"
#include "engine/workflow/loader.hpp"

namespace orbitmesh::engine {

/// A line of `workflow validate` that is neither error nor warning: which engine a field uses.
struct engine_note {
    int line = 0;  // 0 = the file as a whole
    std::string message;
};

/// For a file in the original dialect: one note naming why it was read so, one per field or
/// script that JavaScript evaluates (every other `${…}` uses our expression language) and one per
/// step whose `dialect_note` says how it was read (a `pattern:` job answering one result). When
/// `engine` is available, every script and JavaScript expression is also compiled (not run) and
/// syntax errors are added to `check.diagnostics` with their file line. Never throws.
std::vector<engine_note> review_javascript(workflow_check& check, const js_engine& engine);

}  // namespace orbitmesh::engine
