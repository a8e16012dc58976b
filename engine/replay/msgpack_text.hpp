#pragma once
#include "core/json_text.hpp"
#include "core/msgpack_view.hpp"

namespace orbitmesh::engine::replay {

/// Writes a MessagePack value as the JSON text nlohmann's dump() prints for the same value once
/// decoded, without decoding it. Returns false (having written part of it) for what dump() would
/// print differently from a straight walk: maps whose keys are not strictly sorted (json objects
/// sort and deduplicate them), binary and extension values. The caller then takes the slow path.
bool write_json(core::json_text& w, const core::mp_value& v);

}  // namespace orbitmesh::engine::replay
