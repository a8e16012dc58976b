#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace orbitmesh::core {

/// Parses `250ms`, `30s`, `5m`, `1h`, `2d`, compounds like `1m30s`, and `HH:MM:SS`, into milliseconds.
/// A bare number is refused as ambiguous. Returns nullopt on anything else.
std::optional<std::int64_t> parse_duration(std::string_view text);
/// Like parse_duration, but throws core::error{invalid_input} naming `what` and the accepted forms.
std::int64_t parse_duration_or_throw(std::string_view text, std::string_view what);
/// Short human text for a duration in ms: `250ms`, `1.5s`, `2m03s`, `1h02m`.
std::string format_duration(std::int64_t ms);
/// A limit as a flag would take it: "5s" for whole seconds, else "1500ms".
std::string format_timeout(std::int64_t ms);

}  // namespace orbitmesh::core
