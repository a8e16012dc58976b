#pragma once
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace orbitmesh::core::log {

/// Severity of one log event; `--log-level` drops everything below the one chosen.
enum class level { debug, info, warn, error };
/// `text`: `orbitmesh serve: message` for people; `json`: one object per line for collectors.
enum class format { text, json };

std::optional<level> parse_level(std::string_view s) noexcept;
std::optional<format> parse_format(std::string_view s) noexcept;
std::string_view to_string(level l) noexcept;

/// Sets the format and threshold. Call once at start, before other threads log.
void configure(format f, level threshold);
bool enabled(level l) noexcept;
/// Lowers the threshold to `l` when it is higher (`-v` means at least debug). Thread-safe.
void lower_threshold(level l) noexcept;
/// Nothing is written from now on, whatever the level (`run --local -q`: the in-process hub,
/// agent and listener say nothing). Thread-safe.
void silence() noexcept;

/// Ids and other facts of an event, written as JSON fields (`job_id`, `run_id`, `agent_id`, ...).
/// Empty values are left out.
using fields = std::initializer_list<std::pair<std::string_view, std::string_view>>;

/// Writes one event as one line on stderr, in a single write(2) so lines from several threads
/// never interleave. Thread-safe. In text format the fields are not repeated: the message names
/// its objects already.
/// `component` names the part of the binary (`serve`, `agent`; `run --local` runs both); ""
/// for lines shared by both (the WebSocket layer): `orbitmesh: message`.
void write(std::string_view component, level l, std::string_view message, fields f = {});

}  // namespace orbitmesh::core::log
