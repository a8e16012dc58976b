#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "core/json.hpp"

namespace orbitmesh::engine::replay {

/// One step that the new definition would treat differently from the recorded run.
struct what_if_change {
    std::string step;    // its path
    std::string change;  // added | skipped | now runs | not reached | changed inputs | different outcome
    std::string before;  // as recorded (state, or the job's payload)
    std::string after;   // as the new definition would have it
};

/// What `replay RUN --what-if FILE` found.
struct what_if_report {
    std::string run_id;
    std::string workflow_file;
    std::string old_outcome, new_outcome;
    std::vector<what_if_change> changes;  // in the new run's step order, then steps it no longer reaches
    std::size_t answered = 0;             // jobs answered with their recorded result
    std::size_t unrecorded = 0;           // jobs the old run never ran (answered succeeded, no output)
    bool same_outcome() const { return old_outcome == new_outcome; }
};

/// Drives the new definition `source` through the workflow runner with the recorded run's
/// inputs, every job answered by the result that run recorded for the same step (a step it never
/// ran: "would run, no recorded result", answered succeeded with no output), its approvals given
/// as they were; executes nothing and writes nothing. Throws core::error{not_found} for an
/// unknown run, {invalid_input} for a definition the engine refuses.
what_if_report what_if(const std::filesystem::path& store_file, const std::string& run_id, const std::string& source,
                       const std::string& file);

core::json to_json(const what_if_report& r);

}  // namespace orbitmesh::engine::replay
