#pragma once
#include "engine/hub/hub_options.hpp"

namespace orbitmesh::engine {

/// Runs `orbitmesh serve` until SIGINT/SIGTERM: opens the store, recovers state, listens, serves.
/// Returns the exit code (0 after a clean stop). Throws core::error for a bad data dir, a damaged
/// store or an address it cannot bind.
int run_hub(const hub_options& opts);

}  // namespace orbitmesh::engine
