#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "engine/replay/chain_check.hpp"

namespace orbitmesh::engine::replay {

/// One place where the stored state and the events disagree.
struct difference {
    std::string object;   // "job 0193…", "agent web1 (0193…)", "run …", "idempotency key job:K", "snapshot at seq N", "event N"
    std::string field;    // "state", "row", "record.output", ...
    std::string stored;   // as the store has it (JSON text of the value, or a word)
    std::string rebuilt;  // as the events say
};

/// What `orbitmesh replay --verify` found.
struct verify_report {
    std::string store;
    std::int64_t events = 0;
    std::int64_t last_seq = 0;
    std::size_t jobs = 0, agents = 0, runs = 0, keys = 0;  // objects rebuilt from the events
    std::size_t rows = 0;                                  // projection rows compared
    /// Rows behind events newer than the newest snapshot: a running hub writes those rows a
    /// little later (in-flight jobs every 100 ms), and a restarted one rewrites them. Not a
    /// difference; counted so an operator sees them.
    std::size_t lagging = 0;
    std::optional<std::int64_t> snapshot_seq;  // the snapshot checked, if the store has one
    std::vector<difference> differences;        // the first max_differences: chain mismatches (by seq) first
    chain_result chain;                         // the tamper-evident log
    std::size_t difference_count = 0;
    double seconds = 0;
    double cpu_seconds = 0;   // CPU time of the whole process meanwhile (every thread)
    double fold_seconds = 0;  // of `seconds`: folding the log (snapshot check included)
    double jobs_seconds = 0;  // comparing the jobs table
    double fold_cpu_seconds = 0, jobs_cpu_seconds = 0;
    bool ok() const { return difference_count == 0; }
};

struct verify_options {
    std::size_t max_differences = 20;
    int threads = 0;  // 0: one per core, at most 4
    std::int64_t min_range = 50'000;  // events per fold range at least (tests split small logs)
};

/// Rebuilds every projection (jobs, agents, runs, idempotency keys) from the event log of the
/// store `file`, compares them with the stored tables, and the newest snapshot with the events
/// up to its seq. Read-only; works beside a running hub. Throws core::error{storage} when the
/// store cannot be read at all (a difference is not an error: see the report).
verify_report verify_store(const std::filesystem::path& file, const verify_options& opts = {});

core::json to_json(const verify_report& r);
/// The chain part of the report: presence, start, events checked, checkpoints, head (seq, hash).
core::json chain_json(const chain_result& c);
/// "verified 1,000,004 events (250,000 jobs, …) in 0.41 s: the store matches its events".
std::string summary_line(const verify_report& r);

}  // namespace orbitmesh::engine::replay
