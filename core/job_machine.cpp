#include "core/job_machine.hpp"

#include <array>
#include <string>

#include "core/error.hpp"
#include "core/job_fold.hpp"

namespace orbitmesh::core {

namespace {

using s = job_state;
using k = job_event_kind;
constexpr std::optional<job_state> none = std::nullopt;

constexpr std::array<std::string_view, job_event_kind_count> kind_names{
    "job.submitted", "job.assigned", "job.started",          "job.finished", "job.retry_scheduled",
    "job.requeued",  "job.dead",     "job.cancel_requested", "job.retried",
};

// SPEC §3: pending → assigned → running → succeeded | failed | cancelled | timed_out, plus dead.
constexpr job_transition table[] = {
    {none, k::submitted, s::pending},
    {s::pending, k::assigned, s::assigned},
    {s::assigned, k::started, s::running},
    // An attempt's outcome; an ACKed fire_and_forget job also ends from assigned.
    {s::assigned, k::finished, s::succeeded},
    {s::assigned, k::finished, s::failed},
    {s::assigned, k::finished, s::cancelled},
    {s::assigned, k::finished, s::timed_out},
    {s::running, k::finished, s::succeeded},
    {s::running, k::finished, s::failed},
    {s::running, k::finished, s::cancelled},
    {s::running, k::finished, s::timed_out},
    // A queued job cancelled by request, or failed when it can never run.
    {s::pending, k::finished, s::cancelled},
    {s::pending, k::finished, s::failed},
    // Back to the queue: a failure with retries left, or agent loss / no ACK / NACK.
    {s::assigned, k::retry_scheduled, s::pending},
    {s::running, k::retry_scheduled, s::pending},
    {s::assigned, k::requeued, s::pending},
    {s::running, k::requeued, s::pending},
    // Retries spent.
    {s::pending, k::dead, s::dead},
    {s::assigned, k::dead, s::dead},
    {s::running, k::dead, s::dead},
    // A flag on a job still going; the agent's `cancelled` result ends it.
    {s::pending, k::cancel_requested, s::pending},
    {s::assigned, k::cancel_requested, s::assigned},
    {s::running, k::cancel_requested, s::running},
    // `job retry`: an ended, unsuccessful job is queued again.
    {s::failed, k::retried, s::pending},
    {s::cancelled, k::retried, s::pending},
    {s::timed_out, k::retried, s::pending},
    {s::dead, k::retried, s::pending},
};

// The table as bitmasks of allowed targets, [from + 1][event] (row 0: the job does not exist):
// the fold asks once per event, so it should not walk the table each time.
using target_masks = std::array<std::array<std::uint16_t, job_event_kind_count>, job_state_count + 1>;

constexpr target_masks build_masks() {
    target_masks m{};
    for (const auto& t : table) {
        const std::size_t row = t.from ? static_cast<std::size_t>(*t.from) + 1 : 0;
        m[row][static_cast<std::size_t>(t.event)] |= static_cast<std::uint16_t>(1u << static_cast<unsigned>(t.to));
    }
    return m;
}

constexpr target_masks masks = build_masks();

std::uint16_t targets(std::optional<job_state> from, job_event_kind event) {
    return masks[from ? static_cast<std::size_t>(*from) + 1 : 0][static_cast<std::size_t>(event)];
}

}  // namespace

std::string_view to_string(job_event_kind kind) noexcept { return kind_names[static_cast<std::size_t>(kind)]; }

std::optional<job_event_kind> parse_job_event_kind(std::string_view type) noexcept {
    // Called once per event on replay: the length and one letter pick the only candidate, and
    // one comparison confirms it.
    if (type.size() < 8) return std::nullopt;
    std::optional<job_event_kind> k;
    switch (type.size()) {
    case 8: k = job_event_kind::dead; break;
    case 11: k = type[4] == 's' ? job_event_kind::started : job_event_kind::retried; break;
    case 12:
        k = type[4] == 'a' ? job_event_kind::assigned : type[4] == 'f' ? job_event_kind::finished : job_event_kind::requeued;
        break;
    case 13: k = job_event_kind::submitted; break;
    case 19: k = job_event_kind::retry_scheduled; break;
    case 20: k = job_event_kind::cancel_requested; break;
    default: return std::nullopt;
    }
    if (kind_names[static_cast<std::size_t>(*k)] != type) return std::nullopt;
    return k;
}

std::span<const job_transition> job_transitions() noexcept { return table; }

void illegal_job_transition(std::string_view job_id, std::string_view type, std::optional<job_state> from,
                            const char* why) {
    throw error(error_kind::conflict, "job " + std::string(job_id) + ": event " + std::string(type) +
                                          " is not allowed in state " + std::string(from ? to_string(*from) : "(none)") +
                                          " (" + why + ")");
}

bool job_transition_allowed(std::optional<job_state> from, job_event_kind event, job_state to) noexcept {
    return (targets(from, event) >> static_cast<unsigned>(to)) & 1u;
}

std::optional<job_state> job_transition_target(std::optional<job_state> from, job_event_kind event) noexcept {
    const std::uint16_t m = targets(from, event);
    if (m == 0 || (m & (m - 1)) != 0) return std::nullopt;  // none, or the event's data decides
    for (std::size_t i = 0; i < job_state_count; ++i)
        if (m == (1u << i)) return static_cast<job_state>(i);
    return std::nullopt;
}

}  // namespace orbitmesh::core
