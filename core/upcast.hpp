#pragma once
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "core/event.hpp"
#include "core/json.hpp"

namespace orbitmesh::core {

/// One step of an event schema change (SPEC §5: a changed schema gets an upcaster, never a
/// broken old log). `upgrade` turns the data of `type` written at schema `from` into schema
/// `from + 1`. Steps are never removed: an event written by any old build is brought up to date
/// by running every step after its schema, in order, before it is folded.
///
/// The schema an event was written with is its data's "schema" field, 1 when absent: every
/// event before the first change has none, and a build that changes a type's data writes
/// "schema": N for it from then on.
struct upcaster {
    std::string_view type;
    int from = 1;
    void (*upgrade)(json& data) = nullptr;
};

/// This build's steps (none yet: every event type is at schema 1).
std::span<const upcaster> upcasters() noexcept;

/// The schema `data` says it was written with.
int schema_of(const json& data);
/// The schema this build writes and folds for `type`: 1 + the steps `table` has for it.
int current_schema(std::string_view type, std::span<const upcaster> table = upcasters()) noexcept;
/// Whether `type` ever changed: when not, its events are current as stored and a reader can
/// look at them in place.
bool has_upcasters(std::string_view type, std::span<const upcaster> table = upcasters()) noexcept;

/// Brings `e.data` to the current schema of `e.type`. Returns whether it changed anything.
/// Throws core::error{storage} for data written by a newer build (a schema above the current).
bool upcast(event& e, std::span<const upcaster> table = upcasters());

/// For readers that look at stored MessagePack in place (event_view): when `type` ever changed,
/// brings `data` (of event `seq`) to the current schema in `scratch` and points `data` at it.
/// Throws core::json::exception for unreadable data, core::error{storage} as upcast does.
void upcast_packed(std::string_view type, std::int64_t seq, std::span<const std::uint8_t>& data,
                   std::vector<std::uint8_t>& scratch);

}  // namespace orbitmesh::core
