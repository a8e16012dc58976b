#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <span>

#include "core/msgpack_view.hpp"

namespace orbitmesh::engine::replay {

/// The fields of a job spec (job.submitted's data.spec as MessagePack), found in one walk.
struct spec_view {
    std::optional<core::mp_value> command, idempotency_key, mode, on_agent_lost, payload, priority, retries, target,
        timeout_ms, trace;
    bool unknown = false;        // not a map, or a key the hub never writes
    bool retries_plain = false;  // {backoff_ms, max, max_delay_ms}, integers in range
    bool target_plain = false;   // {agent: string, capabilities: [string], tags: {string: string}}
    const std::uint8_t* end = nullptr;  // of the spec (null when it is not a map)
};

/// Reads a spec, walking it once (the nested target and retries included).
spec_view read_spec(const core::mp_value& spec);

/// Whether the spec is exactly what core::to_json(job_spec) writes for a validated spec: then it
/// is valid as it stands, and rendering its bytes equals rendering the parsed spec.
bool plain_spec(const spec_view& s);

/// Where each field starts inside `raw` (the spec's bytes), offset + 1 (0: absent), in the
/// order of job_slot::spec_fields.
std::array<std::uint32_t, 10> field_offsets(const spec_view& s, std::span<const std::uint8_t> raw);
/// The spec_view of a spec kept as bytes with its field offsets, without walking it.
spec_view view_at(std::span<const std::uint8_t> raw, const std::array<std::uint32_t, 10>& offsets);

}  // namespace orbitmesh::engine::replay
