#pragma once
// Private to verify*.cpp: the difference collector and the per-table checks.
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.hpp"
#include "engine/replay/log_state.hpp"
#include "engine/replay/verify.hpp"

namespace orbitmesh::store {
class projection_scan;
class event_scan;
}  // namespace orbitmesh::store

namespace orbitmesh::engine::replay::detail {

/// Differences found by one thread (each keeps the first `max`, and counts all).
struct findings {
    explicit findings(std::size_t limit) : max(limit) {}
    std::size_t max = 20;
    std::vector<difference> list;
    std::size_t count = 0;
    std::size_t rows = 0;
    std::size_t lagging = 0;

    void add(std::string object, std::string field, std::string stored, std::string rebuilt) {
        ++count;
        if (list.size() < max) list.push_back({std::move(object), std::move(field), std::move(stored), std::move(rebuilt)});
    }
    void merge(findings&& other) {
        for (auto& d : other.list)
            if (list.size() < max) list.push_back(std::move(d));
        count += other.count;
        rows += other.rows;
        lagging += other.lagging;
    }
};

/// A value as a difference shows it: compact JSON, cut at 200 characters.
std::string shown(const core::json& v);
std::string shown_text(std::string_view text);

/// The first top-level key where two records differ, ignoring `ignore`; "" when equal.
std::string first_difference(const core::json& stored, const core::json& rebuilt, std::initializer_list<std::string_view> ignore);

/// Compares the `jobs` table with the rebuilt jobs. `watermark`: the newest snapshot's seq
/// (rows are complete up to it); events after it may not have reached their rows yet.
void check_jobs(const std::filesystem::path& file, const log_state& state, std::int64_t watermark, int threads,
                findings& out);
void check_agents(store::projection_scan& rows, const log_state& state, findings& out);
void check_runs(store::projection_scan& rows, store::event_scan& events, const log_state& state, std::int64_t watermark,
                findings& out);
void check_keys(store::projection_scan& rows, const log_state& state, std::int64_t watermark, findings& out);
/// The snapshot against `state`, the fold of exactly the events up to its seq.
void check_snapshot(const std::string& data, int format, std::int64_t seq, const log_state& state, findings& out);

}  // namespace orbitmesh::engine::replay::detail
