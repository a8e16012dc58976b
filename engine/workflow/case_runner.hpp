#pragma once
#include <map>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "engine/workflow/mock_port.hpp"
#include "engine/workflow/workflow_cases.hpp"

namespace orbitmesh::engine {

/// A workflow driven through the real runner with every job answered by a mock.
struct mock_run {
    bool ended = false;    // the run reached a final state within the virtual horizon
    core::json run;        // its record (docs/http-api.md form)
    core::json events;     // its event feed, as `run -o ndjson` prints it
    std::vector<mock_call> calls;  // the jobs the engine dispatched, in order
    std::int64_t virtual_ms = 0;   // virtual time the run took
};

/// What goes into one mocked run.
struct mock_setup {
    core::json inputs = core::json::object();
    std::map<std::string, step_mock> jobs;
    std::map<std::string, step_mock> compensations;
    std::map<std::string, bool> approvals;  // step id -> approve (true) / reject
    bool unmocked_succeed = false;          // see mock_port
};

/// Registers `source` on a fresh runner over a mock_port, starts one run and drives it to its
/// end in virtual time (at most 30 days of it). Throws core::error{invalid_input} when the
/// workflow or the inputs are refused, as `run` would be.
mock_run run_mocked(const std::string& source, const std::string& file, const mock_setup& setup);

/// One case's verdict: ok, or every expectation that did not hold (expected vs got).
struct case_result {
    std::string name;
    std::vector<std::string> failures;
    mock_run run;
    bool ok() const { return failures.empty(); }
};

case_result run_case(const std::string& source, const std::string& file, const test_case& c);

/// A step's record in a run record by path or by id (the first with that id); nullptr if none.
const core::json* find_step(const core::json& run, const std::string& key);

}  // namespace orbitmesh::engine
