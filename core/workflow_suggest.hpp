#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace orbitmesh::core {

/// Optimal-string-alignment distance (insert, delete, substitute, swap neighbours), computed
/// only up to `limit`: returns `limit + 1` as soon as the distance must exceed it.
std::size_t edit_distance(std::string_view a, std::string_view b, std::size_t limit);

/// The candidate nearest to `name` when it is close enough to be a typo ("did you mean"):
/// distance ≤ 1 for names up to 4 characters, ≤ 2 up to 8, ≤ 3 beyond. Ties go to the first.
std::optional<std::string> closest_name(std::string_view name, const std::vector<std::string_view>& candidates);

/// ` (did you mean "x"?)`-style text for a hint, or "" when nothing is close.
std::string did_you_mean(std::string_view name, const std::vector<std::string_view>& candidates);

}  // namespace orbitmesh::core
