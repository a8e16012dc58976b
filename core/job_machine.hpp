#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "core/job.hpp"

namespace orbitmesh::core {

/// The events of a job stream as an enum; core/job_events.hpp has their wire names.
enum class job_event_kind : std::uint8_t {
    submitted,
    assigned,
    started,
    finished,
    retry_scheduled,
    requeued,
    dead,
    cancel_requested,
    retried,
};
inline constexpr std::size_t job_event_kind_count = 9;

std::string_view to_string(job_event_kind k) noexcept;
std::optional<job_event_kind> parse_job_event_kind(std::string_view type) noexcept;

/// One allowed step of the job state machine (SPEC §3): in state `from` (nullopt: the job does
/// not exist yet) the event leads to `to`. `cancel_requested` only sets a flag, so its rows keep
/// the state. Everything not listed is an illegal transition: the hub refuses to record it and
/// a replay refuses to apply it.
struct job_transition {
    std::optional<job_state> from;
    job_event_kind event;
    job_state to;
};

/// The whole table, in the order SPEC §3 describes the life of a job.
std::span<const job_transition> job_transitions() noexcept;

/// True when the table has the row (from, event, to).
bool job_transition_allowed(std::optional<job_state> from, job_event_kind event, job_state to) noexcept;

/// The state an event leads to from `from` when the table has exactly one row for the pair
/// (every event but `finished`, whose target is in its data); nullopt when there is none.
std::optional<job_state> job_transition_target(std::optional<job_state> from, job_event_kind event) noexcept;

}  // namespace orbitmesh::core
