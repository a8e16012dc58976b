#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "engine/workflow/mock_port.hpp"

namespace orbitmesh::engine {

/// What a case expects of its run (docs/workflow-testing.md). Unset parts are not checked.
struct case_expect {
    std::optional<std::string> outcome;            // the run's final state
    std::map<std::string, std::string> steps;      // step path or id -> state
    std::map<std::string, core::json> outputs;     // step path or id -> output (equal as JSON)
    std::optional<std::vector<std::string>> compensations;  // steps compensated, in order
    std::optional<std::string> error;              // text the run's error must contain
};

/// One named case of a case file: inputs, the mocks that answer its jobs, approvals, expectations.
struct test_case {
    std::string name;
    core::json inputs = core::json::object();
    std::map<std::string, step_mock> steps;          // by step path or id
    std::map<std::string, step_mock> compensations;  // by step path or id (default: succeed)
    std::map<std::string, bool> approvals;           // step -> approve (true) or reject
    case_expect expect;
};

/// A case file: `cases:` a list of test_case.
struct case_file {
    std::string file;
    std::vector<test_case> cases;
};

/// Reads and checks a case file (YAML or JSON). Throws core::error{invalid_input} naming the
/// file, the case and the key that is wrong; {usage} when the file cannot be read.
case_file load_case_file(const std::string& path);
/// The same from text (tests).
case_file parse_case_file(const std::string& text, const std::string& file);

/// The case file `workflow test FILE` uses when --cases is not given: FILE's stem with
/// `.cases.yaml` beside it, else `cases/STEM.yaml` beside it; "" when neither exists.
std::string default_case_file(const std::string& workflow_file);

}  // namespace orbitmesh::engine
