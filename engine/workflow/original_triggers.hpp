#pragma once
#include <string_view>
#include <vector>

#include "core/workflow.hpp"
#include "engine/workflow/build_context.hpp"

// Internal to the workflow loader: the original OrbitMesh's `job_completion` and `file_watch`
// triggers, read into event triggers with their own keys (docs/original-format.md).
namespace orbitmesh::engine {

/// `input_mapping: {INPUT: EXPRESSION}` of webhook, event and the original triggers.
void read_input_mapping(map_reader& r, core::workflow_trigger& t);

bool is_original_trigger(std::string_view type) noexcept;
/// Fills `t` (already an event trigger) from the original keys; problems go to the reader's sink.
void read_original_trigger(std::string_view type, map_reader& r, core::workflow_trigger& t);
/// Every key such a trigger accepts (for unknown-key warnings).
std::vector<std::string_view> original_trigger_keys(std::string_view type);

}  // namespace orbitmesh::engine
