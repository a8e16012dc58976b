#include "core/trigger_schedule.hpp"

#include <deque>

namespace orbitmesh::core {

trigger_schedule trigger_schedule::make(const std::string& cron, const std::string& zone, std::int64_t interval_ms,
                                        std::int64_t anchor_ms) {
    trigger_schedule s;
    if (!cron.empty()) s.cron = parse_cron(cron);
    s.zone = zone.empty() ? time_zone::utc() : time_zone::load(zone);
    s.interval_ms = interval_ms;
    s.anchor_ms = anchor_ms;
    return s;
}

std::optional<std::int64_t> trigger_schedule::next_after(std::int64_t after_ms) const {
    if (cron) {
        // Fire times are whole seconds: the first one strictly after `after_ms`.
        const std::int64_t after_s = after_ms >= 0 ? after_ms / 1000 : (after_ms - 999) / 1000;
        auto s = next_fire(*cron, zone, after_s);
        if (!s) return std::nullopt;
        return *s * 1000;
    }
    if (interval_ms <= 0) return std::nullopt;
    if (after_ms < anchor_ms) return anchor_ms + interval_ms;
    return anchor_ms + ((after_ms - anchor_ms) / interval_ms + 1) * interval_ms;
}

due_fires fires_due(const trigger_schedule& s, std::int64_t last_ms, std::int64_t now_ms, catch_up_policy policy,
                    std::size_t limit, std::int64_t grace_ms) {
    due_fires out;
    std::deque<std::int64_t> missed;  // the newest `keep` of them
    const std::size_t keep = policy == catch_up_policy::all ? std::max<std::size_t>(limit, 1) : 1;
    std::int64_t at = last_ms;
    for (int looked = 0; looked < 100'000; ++looked) {
        auto next = s.next_after(at);
        if (!next || *next > now_ms) break;
        at = *next;
        if (now_ms - *next < grace_ms) {
            out.fire.push_back(*next);
            continue;
        }
        missed.push_back(*next);
        if (missed.size() > keep) {
            ++out.skipped;
            out.skipped_until_ms = missed.front();
            missed.pop_front();
        }
    }
    if (auto next = s.next_after(at); next && *next <= now_ms) {  // the bound was hit: skip up to now
        auto rest = fires_due(s, now_ms - grace_ms, now_ms, catch_up_policy::none, 1, grace_ms);
        out.skipped += static_cast<std::int64_t>(missed.size());
        if (!missed.empty()) out.skipped_until_ms = missed.back();
        missed.clear();
        out.fire = rest.fire;
    }
    if (policy == catch_up_policy::none) {
        out.skipped += static_cast<std::int64_t>(missed.size());
        if (!missed.empty()) out.skipped_until_ms = missed.back();
        missed.clear();
    }
    out.fire.insert(out.fire.begin(), missed.begin(), missed.end());
    return out;
}

}  // namespace orbitmesh::core
