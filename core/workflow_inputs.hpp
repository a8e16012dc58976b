#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "core/json.hpp"
#include "core/workflow.hpp"

namespace orbitmesh::core {

/// Canonical input type for a name the workflow may use: `string`/`text`, `integer`/`int`,
/// `number`/`float`/`double`, `boolean`/`bool`, `array`/`list`, `object`/`map`,
/// `datetime`/`date`/`timestamp`. nullopt for anything else.
std::optional<std::string> canonical_input_type(std::string_view name);

/// Whether `v` is a value of the canonical `type` (a whole float counts as an integer).
bool input_value_matches(std::string_view type, const json& v);

/// Checks run inputs against the workflow's parameters and fills in defaults (SPEC §4: manual
/// triggers validate inputs and apply defaults). Strings are converted for typed parameters,
/// since `--input count=3` arrives as text. A workflow that declares no inputs takes any
/// object. Throws core::error{invalid_input} listing every problem.
json resolve_inputs(const workflow& wf, const json& given);

}  // namespace orbitmesh::core
