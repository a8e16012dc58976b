#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "core/workflow.hpp"
#include "engine/workflow/build_context.hpp"
#include "engine/workflow/source_node.hpp"

// Internal to the workflow loader: the top level of a workflow file.
namespace orbitmesh::engine {

/// Builds the workflow from the root of the file; every problem goes to the sink.
core::workflow build_workflow(const source_node& root, diagnostics_sink& sink, std::string_view default_id);

/// `inputs:` or a manual trigger's `input_schema:` — a map NAME: {type, required, default,
/// allowed_values, description} (or NAME: TYPE), or a list of such maps with `name`.
void build_inputs(const source_node& n, diagnostics_sink& sink, const std::string& owner, std::vector<core::input_param>& out);

/// `triggers:`; manual triggers' input_schema parameters are added to `inputs`.
std::vector<core::workflow_trigger> build_triggers(const source_node& list, diagnostics_sink& sink,
                                                   std::vector<core::input_param>& inputs);

}  // namespace orbitmesh::engine
