#include "core/job_machine.hpp"

#include <array>
#include <string>

#include "core/error.hpp"
#include "core/job_fold.hpp"

namespace orbitmesh::core {

namespace {

using js = job_state;
using jk = job_event_kind;
constexpr std::optional<job_state> none = std::nullopt;

constexpr std::array<std::string_view, job_event_kind_count> kind_names{
    "job.submitted", "job.assigned", "job.started",          "job.finished", "job.retry_scheduled",
    "job.requeued",  "job.dead",     "job.cancel_requested", "job.retried",
};

// SPEC §3: pending → assigned → running → succeeded | failed | cancelled | timed_out, plus dead.
constexpr job_transition job_table[] = {
    {none, jk::submitted, js::pending},
    {js::pending, jk::assigned, js::assigned},
    {js::assigned, jk::started, js::running},
    // An attempt's outcome; an ACKed fire_and_forget job also ends from assigned.
    {js::assigned, jk::finished, js::succeeded},
    {js::assigned, jk::finished, js::failed},
    {js::assigned, jk::finished, js::cancelled},
    {js::assigned, jk::finished, js::timed_out},
    {js::running, jk::finished, js::succeeded},
    {js::running, jk::finished, js::failed},
    {js::running, jk::finished, js::cancelled},
    {js::running, jk::finished, js::timed_out},
    // A queued job cancelled by request, or failed when it can never run.
    {js::pending, jk::finished, js::cancelled},
    {js::pending, jk::finished, js::failed},
    // Back to the queue: a failure with retries left, or agent loss / no ACK / NACK.
    {js::assigned, jk::retry_scheduled, js::pending},
    {js::running, jk::retry_scheduled, js::pending},
    {js::assigned, jk::requeued, js::pending},
    {js::running, jk::requeued, js::pending},
    // Retries spent.
    {js::pending, jk::dead, js::dead},
    {js::assigned, jk::dead, js::dead},
    {js::running, jk::dead, js::dead},
    // A flag on a job still going; the agent's `cancelled` result ends it.
    {js::pending, jk::cancel_requested, js::pending},
    {js::assigned, jk::cancel_requested, js::assigned},
    {js::running, jk::cancel_requested, js::running},
    // `job retry`: an ended, unsuccessful job is queued again.
    {js::failed, jk::retried, js::pending},
    {js::cancelled, jk::retried, js::pending},
    {js::timed_out, jk::retried, js::pending},
    {js::dead, jk::retried, js::pending},
};

// The job_table as bitmasks of allowed targets, [from + 1][event] (row 0: the job does not exist):
// the fold asks once per event, so it should not walk the table each time.
using target_masks = std::array<std::array<std::uint16_t, job_event_kind_count>, job_state_count + 1>;

constexpr target_masks build_masks() {
    target_masks m{};
    for (const auto& t : job_table) {
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

std::span<const job_transition> job_transitions() noexcept { return job_table; }

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
