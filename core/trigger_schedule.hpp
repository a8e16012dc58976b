#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/catch_up_policy.hpp"
#include "core/cron.hpp"
#include "core/time_zone.hpp"

namespace orbitmesh::core {

/// When a schedule trigger fires: a cron expression read in a zone, or a fixed interval counted
/// from `anchor_ms` (when the trigger was armed). Plain data; the trigger engine keeps one per
/// trigger and records each decided fire time, so these functions are all it needs to resume.
struct trigger_schedule {
    std::optional<cron_expr> cron;
    time_zone zone = time_zone::utc();
    std::int64_t interval_ms = 0;
    std::int64_t anchor_ms = 0;

    /// Builds one from a trigger's fields; throws core::error{invalid_input} (bad cron, unknown zone).
    static trigger_schedule make(const std::string& cron, const std::string& zone, std::int64_t interval_ms,
                                 std::int64_t anchor_ms);
    /// The first fire time strictly after `after_ms`, or nullopt (a cron that never matches).
    std::optional<std::int64_t> next_after(std::int64_t after_ms) const;
};

/// The fire times a trigger owes at `now_ms`, given the last one it decided (`last_ms`; the
/// anchor when it never fired), oldest first. A fire time counts as on time while it is less
/// than `grace_ms` old; older ones were missed and follow `policy`: none drops them, latest keeps
/// the newest, all keeps the newest `limit`. `skipped` counts the fire times dropped, so the
/// caller can record them and never look at them again. Bounded: looks at most at 100,000 fire
/// times (then everything older than the newest `limit` counts as skipped).
struct due_fires {
    std::vector<std::int64_t> fire;
    std::int64_t skipped = 0;
    std::int64_t skipped_until_ms = 0;  // the newest dropped fire time
};
due_fires fires_due(const trigger_schedule& s, std::int64_t last_ms, std::int64_t now_ms, catch_up_policy policy,
                    std::size_t limit, std::int64_t grace_ms);

}  // namespace orbitmesh::core
