#pragma once
#include <optional>
#include <string_view>

namespace orbitmesh::core {

/// What a schedule trigger does with fire times it missed while the hub was down (SPEC §4
/// `catch_up`): skip them, fire the newest one, or fire each of them (up to `catch_up_limit`).
enum class catch_up_policy { none, latest, all };

constexpr std::string_view to_string(catch_up_policy p) noexcept {
    return p == catch_up_policy::all ? "all" : p == catch_up_policy::latest ? "latest" : "none";
}

/// "none" | "latest" | "all", and the booleans the original format wrote (false = none, true = latest).
constexpr std::optional<catch_up_policy> parse_catch_up(std::string_view s) noexcept {
    if (s == "none" || s == "false") return catch_up_policy::none;
    if (s == "latest" || s == "true") return catch_up_policy::latest;
    if (s == "all") return catch_up_policy::all;
    return std::nullopt;
}

}  // namespace orbitmesh::core
