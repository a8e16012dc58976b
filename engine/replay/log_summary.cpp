#include "engine/replay/log_summary.hpp"

#include "core/clock.hpp"
#include "engine/replay/log_fold.hpp"
#include "store/projection_scan.hpp"

namespace orbitmesh::engine::replay {

core::json log_summary(const std::filesystem::path& file, std::int64_t until) {
    fold_options fo;
    fo.until = until;
    const auto state = fold_log(file, fo);
    core::json kinds = core::json::object();
    std::int64_t first_ms = 0, last_ms = 0;
    for (const auto& [k, s] : state.kinds()) {
        kinds[std::string(to_string(k))] = {{"streams", s.streams}, {"events", s.events},
                                            {"first", core::format_time(s.first_ms)}, {"last", core::format_time(s.last_ms)}};
        if (first_ms == 0 || (s.first_ms > 0 && s.first_ms < first_ms)) first_ms = s.first_ms;
        if (s.last_ms > last_ms) last_ms = s.last_ms;
    }
    core::json jobs = core::json::object();
    for (const auto& [st, n] : state.job_counts()) jobs[std::string(core::to_string(st))] = n;
    core::json runs = core::json::object();
    for (const auto& [id, r] : state.runs) runs[std::string(core::to_string(r.state))] = runs.value(std::string(core::to_string(r.state)), 0) + 1;
    core::json agents = core::json::object();
    for (const auto& [id, a] : state.agents) agents[std::string(core::to_string(a.state))] = agents.value(std::string(core::to_string(a.state)), 0) + 1;
    core::json refused = core::json::array();
    for (std::size_t i = 0; i < state.refused.size() && i < 20; ++i) {
        const auto& r = state.refused[i];
        refused.push_back({{"seq", r.seq}, {"stream", r.stream}, {"type", r.type}, {"reason", r.reason}});
    }
    core::json snapshots = core::json::array();
    for (const auto& m : store::projection_scan(file).snapshots())
        snapshots.push_back({{"seq", m.seq}, {"time", core::format_time(m.time_ms)}, {"format", m.format}, {"bytes", m.bytes}});
    return {{"store", file.string()},
            {"until", until > 0 ? core::json(until) : core::json()},
            {"events", state.events},
            {"first_seq", state.first_seq},
            {"last_seq", state.last_seq},
            {"first_time", core::format_time(first_ms)},
            {"last_time", core::format_time(last_ms)},
            {"streams", std::move(kinds)},
            {"jobs", std::move(jobs)},
            {"runs", std::move(runs)},
            {"agents", std::move(agents)},
            {"refused_events", state.refused_count},
            {"first_refused", std::move(refused)},
            {"snapshots", std::move(snapshots)}};
}

}  // namespace orbitmesh::engine::replay
