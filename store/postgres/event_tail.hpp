#pragma once
#include <memory>
#include <string>

#include "store/event_source.hpp"

namespace orbitmesh::store::postgres {

/// The event log of the PostgreSQL store at `url` as an event_source, over a connection of its
/// own (read committed: each call sees what has committed by then). Throws
/// core::error{unavailable} when the server cannot be reached.
std::unique_ptr<event_source> open_event_tail(const std::string& url);

}  // namespace orbitmesh::store::postgres
