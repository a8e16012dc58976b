#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/event.hpp"
#include "core/job.hpp"
#include "engine/replay/arena.hpp"

namespace orbitmesh::engine::replay {

/// A job as replay rebuilds it: the scalar fields of core::job_record (folded by the same
/// core::fold_transition), and views into an arena for the rest — the spec and the output stay
/// the MessagePack bytes the events carried, so folding a million events builds no json tree.
struct job_slot {
    std::string_view id;
    std::span<const std::uint8_t> spec;  // data.spec of job.submitted
    std::string_view command, idempotency_key;  // as the hub's record has them (canonical)
    int priority = 0;
    std::string_view agent_id, agent_name, error;
    std::span<const std::uint8_t> output;  // empty: null
    std::optional<int> exit_code;
    core::job_state state = core::job_state::pending;
    int attempt = 0;
    int retries_used = 0;
    int reassigns = 0;
    bool cancel_requested = false;
    std::int64_t created_ms = 0, updated_ms = 0, assigned_ms = 0, started_ms = 0, finished_ms = 0, not_before_ms = 0;
    std::int64_t version = 0;
    std::int64_t first_seq = 0;  // seq of job.submitted
    std::int64_t last_seq = 0;   // seq of the latest event applied
    bool plain_spec = false;     // the spec has exactly the shape the hub writes (fast rendering)
    /// Where the spec's fields start inside `spec` (offset + 1; 0: absent), in the order command,
    /// idempotency_key, mode, on_agent_lost, payload, priority, retries, target, timeout_ms,
    /// trace: rendering reads them without walking the spec again.
    std::array<std::uint32_t, 10> spec_fields{};
};

/// Folds one job event into `slot`, reading its data in place and keeping what the slot needs in
/// `mem`. Throws core::error{conflict} (illegal transition, unreadable data) leaving `slot` as it
/// was. The job id comes from the stream name ("job-<id>").
void fold(job_slot& slot, const core::event_view& e, arena& mem);

/// The slot as a core::job_record (builds the spec and the output: for the few slots that need
/// it, never per event). Throws core::error{conflict} when the stored spec is not a valid one.
core::job_record to_record(const job_slot& slot);

/// The record text the hub writes to the `jobs` table for this job (core::to_json_text of
/// to_record(slot)), written straight from the slot when its spec has the shape the hub writes,
/// else through to_record.
std::string record_text(const job_slot& slot);
/// Same, into `out` (cleared first), reusing its buffer.
void record_text(const job_slot& slot, std::string& out);

}  // namespace orbitmesh::engine::replay
