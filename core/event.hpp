#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/json.hpp"

namespace orbitmesh::core {

/// One entry of the append-only event log (SPEC §5). `seq` is global and assigned by the store;
/// `version` counts events within `stream` (1, 2, ...) and is assigned by the writer of that stream.
struct event {
    std::int64_t seq = 0;
    std::string stream;  // "job-<id>", "agent-<id>", "run-<id>", ...
    std::int64_t version = 0;
    std::string type;  // "job.submitted", "job.assigned", ...
    json data;
    std::int64_t time_ms = 0;
    /// `data` as MessagePack when the producer already encoded it (the store then writes these
    /// bytes and ignores `data`): lets the hub encode off the store's writer thread.
    std::string packed;
};

/// An event as a reader hands it out in place (replay): every view points into the reader's
/// buffers and is valid only until the reader moves on. `data` is MessagePack.
struct event_view {
    std::int64_t seq = 0;
    std::string_view stream;
    std::int64_t version = 0;
    std::string_view type;
    std::span<const std::uint8_t> data;
    std::int64_t time_ms = 0;
};

/// The next event of a stream whose last version is `last_version`, stamped `time_ms` (the wall
/// clock's now unless the caller keeps its own clock).
event make_event(std::string stream, std::int64_t last_version, std::string_view type, json data,
                 std::int64_t time_ms = now_ms());

}  // namespace orbitmesh::core
