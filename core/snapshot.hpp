#pragma once
#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/agent.hpp"
#include "core/job.hpp"
#include "core/json.hpp"

namespace orbitmesh::core {

/// The hub's live state at a seq, stored in the `snapshots` table (format 1, MessagePack), so a
/// start folds only the events after it. Everything ended is in the projection tables already;
/// a snapshot holds what they do not: the jobs still going, counts over all history, agents with
/// their stream versions, the idempotency keys inside their window, and the runs still going
/// (their streams are folded again at start: a run's own history is short).
struct hub_snapshot {
    static constexpr int format = 1;

    struct agent {
        agent_record record;
        std::int64_t events = 0;  // version of its stream
        bool connected = false;   // what its last event says
    };
    struct key {
        std::string kind;  // job | run
        std::string key;
        std::string id;
        std::int64_t created_ms = 0;
    };

    std::int64_t seq = 0;  // the row's seq (the store stamps it)
    std::int64_t time_ms = 0;
    std::vector<job_record> jobs;                         // every job not ended
    std::array<std::int64_t, job_state_count> job_counts{};  // every job ever, per state
    std::vector<agent> agents;
    std::vector<key> keys;
    std::int64_t key_window_ms = 0;
    std::vector<std::string> live_runs;            // runs not ended
    std::map<std::string, std::int64_t> run_counts;  // every run ever, per state
};

/// MessagePack bytes of the snapshot.
std::string encode(const hub_snapshot& s);
/// Reads a snapshot of `format`; throws core::error{storage} naming what is wrong.
hub_snapshot decode_snapshot(std::string_view bytes, int format, std::int64_t seq);

}  // namespace orbitmesh::core
