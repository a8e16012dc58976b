#pragma once
#include <string>
#include <vector>

#include "core/workflow_step.hpp"

// Internal to the workflow loader: how the original dialect's `pattern:` jobs answer
// (docs/original-format.md, "pattern: one list or one result").
namespace orbitmesh::engine {

/// An expression or script of the file as written, with the line it is on (for a script, the
/// line of its first line of code).
struct expression_site {
    std::string text;
    int line = 0;
};

/// The original's files read a `pattern:` job's output in two ways: as the list of every
/// matching agent's result (`healthResults.filter(r => r.status === 'Completed')`), or, as its
/// engine's own templates did, as the one result of one job (`updateInfo.updateAvailable`).
/// Each `pattern:` step (marked fan-out with per-agent results by the dialect) keeps the list
/// unless the file reads its output only as one result — members that are not a list's, and no
/// indexing or list methods, anywhere in `reads` — and then becomes one job on one matching agent
/// whose output is that job's, with a `dialect_note` saying why. When the file reads no `pattern:`
/// output as a list and some as one result, it was written for that one-job engine: its unread
/// `pattern:` steps are one job too. `fan_out:` written explicitly is kept as written.
void decide_pattern_outputs(core::step_list& steps, const std::vector<expression_site>& reads);

}  // namespace orbitmesh::engine
