#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>

#include "engine/replay/chain_check.hpp"
#include "engine/replay/log_state.hpp"

namespace orbitmesh::engine::replay {

struct fold_options {
    std::int64_t until = 0;  // last seq folded; 0 = the whole log
    int threads = 0;         // 0 = one per core, at most 4
    std::int64_t min_range = 50'000;  // events per range at least (below, a thread costs more than it saves)
    /// When set (0 < pause_at < the last seq folded), `at_pause` sees the state of exactly the
    /// events up to pause_at before the rest is added (a snapshot's seq: verify compares them).
    std::int64_t pause_at = 0;
    std::function<void(const log_state&)> at_pause;
    /// When set, every event also goes through this check of the tamper-evident chain (verify).
    chain_check* chain = nullptr;
};

/// Folds the event log of the store `file` into a log_state: split into seq ranges folded in
/// parallel (each thread its own mapped read connection), merged in order. Works beside a
/// running hub (WAL); the log is read as it stands when the fold starts. Throws core::error
/// {storage} when the file cannot be read.
log_state fold_log(const std::filesystem::path& file, const fold_options& opts = {});

}  // namespace orbitmesh::engine::replay
