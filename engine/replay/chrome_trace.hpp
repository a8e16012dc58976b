#pragma once
#include "core/json.hpp"
#include "engine/replay/timeline.hpp"

namespace orbitmesh::engine::replay {

/// A run's (or a job's) history as a Chrome trace (the JSON Perfetto and chrome://tracing open):
/// one complete span per step on the run's tracks, one per attempt on the track of the agent
/// that ran it (agents' names are the track names), and one per wait in the queue. Spans that
/// overlap get lanes of their own ("web1", "web1 #2"); an unfinished span ends at the last
/// event replayed. Throws core::error{usage} for an agent's timeline.
core::json chrome_trace(const timeline& t);

}  // namespace orbitmesh::engine::replay
