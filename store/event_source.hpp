#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/event.hpp"

namespace orbitmesh::store {

/// The event log read in seq order beside a running hub, whichever store it has: the event
/// stream's thread tails it on a connection of its own. Events come as views (data is the stored
/// MessagePack, upcast when its type's schema changed), valid during the visitor call. Not
/// thread-safe: one caller at a time. Failures throw core::error{storage} or {unavailable}.
class event_source {
public:
    using visitor = std::function<void(const core::event_view&)>;
    virtual ~event_source() = default;

    /// The highest seq committed (0: an empty log).
    virtual std::int64_t last_seq() = 0;
    /// Events with after < seq <= last, in seq order.
    virtual void range(std::int64_t after, std::int64_t last, const visitor& fn) = 0;
    /// One stream's events in version order, up to seq `last`.
    virtual void stream(std::string_view name, std::int64_t last, const visitor& fn) = 0;
};

/// `store_url` empty: the SQLite store file `sqlite_file` (read in place, WAL); a postgres://
/// URL: its own libpq connection to that database.
std::unique_ptr<event_source> open_event_source(const std::string& store_url, const std::filesystem::path& sqlite_file);

}  // namespace orbitmesh::store
