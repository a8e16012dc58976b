#include "engine/workflow/workflow_cases.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/duration.hpp"
#include "core/error.hpp"
#include "core/job.hpp"
#include "core/run.hpp"
#include "engine/workflow/source_node.hpp"
#include "engine/workflow/yaml_reader.hpp"

namespace orbitmesh::engine {

namespace {

struct where {
    const std::string& file;
    std::string what;  // `case "happy path"`
    [[noreturn]] void fail(const std::string& message) const {
        throw core::error(core::error_kind::invalid_input, file + ": " + what + ": " + message);
    }
};

void only_keys(const core::json& j, std::initializer_list<const char*> keys, const where& w, const std::string& in) {
    for (const auto& [k, v] : j.items()) {
        bool known = false;
        for (const char* key : keys) known = known || k == key;
        if (!known) {
            std::string list;
            for (const char* key : keys) list += (list.empty() ? "" : ", ") + std::string(key);
            w.fail("unknown key \"" + k + "\" in " + in + " (known: " + list + ")");
        }
    }
}

mock_answer answer_of(const core::json& j, const where& w, const std::string& step) {
    const auto in = "the mock of step \"" + step + "\"";
    if (!j.is_object()) w.fail(in + " must be a map like {output: ..., exit_code: 0}");
    only_keys(j, {"output", "exit_code", "error", "delay", "state"}, w, in);
    mock_answer a;
    if (j.contains("exit_code")) {
        if (!j["exit_code"].is_number_integer()) w.fail(in + ": exit_code must be an integer");
        a.exit_code = j["exit_code"].get<int>();
        a.state = *a.exit_code == 0 ? core::job_state::succeeded : core::job_state::failed;
    }
    if (j.contains("state")) {
        const auto s = j["state"].is_string() ? j["state"].get<std::string>() : std::string{};
        auto st = core::parse_job_state(s);
        if (!st || !core::is_terminal(*st))
            w.fail(in + ": state \"" + s + "\" is not how a job ends (succeeded, failed, timed_out, cancelled, dead)");
        a.state = *st;
    }
    if (j.contains("error")) {
        if (!j["error"].is_string()) w.fail(in + ": error must be text");
        a.error = j["error"].get<std::string>();
        if (!j.contains("exit_code") && !j.contains("state")) a.state = core::job_state::failed;
    }
    if (j.contains("output")) a.output = j["output"];
    if (j.contains("delay")) {
        const auto text = j["delay"].is_string() ? j["delay"].get<std::string>() : j["delay"].dump();
        auto ms = core::parse_duration(text);
        if (!ms) w.fail(in + ": delay \"" + text + "\" is not a duration (e.g. 30s, 5m)");
        a.delay_ms = *ms;
    }
    return a;
}

std::map<std::string, step_mock> mocks_of(const core::json& j, const where& w, const char* key) {
    std::map<std::string, step_mock> out;
    if (j.is_null()) return out;
    if (!j.is_object()) w.fail(std::string(key) + " must map step ids to mocks");
    for (const auto& [step, m] : j.items()) {
        step_mock mock;
        if (m.is_array()) {
            if (m.empty()) w.fail("the mock sequence of step \"" + step + "\" is empty");
            for (const auto& one : m) mock.answers.push_back(answer_of(one, w, step));
        } else {
            mock.answers.push_back(answer_of(m.is_null() ? core::json::object() : m, w, step));
        }
        out[step] = std::move(mock);
    }
    return out;
}

std::string text_of(const core::json& v, const where& w, const std::string& what) {
    if (!v.is_string()) w.fail(what + " must be text");
    return v.get<std::string>();
}

case_expect expect_of(const core::json& j, const where& w) {
    case_expect e;
    if (j.is_null()) return e;
    if (!j.is_object()) w.fail("expect must be a map (outcome, steps, outputs, compensations, error)");
    only_keys(j, {"outcome", "steps", "outputs", "compensations", "error"}, w, "expect");
    if (j.contains("outcome")) {
        auto s = text_of(j["outcome"], w, "expect.outcome");
        if (!core::parse_run_state(s)) w.fail("expect.outcome \"" + s + "\" is not a run state (succeeded, failed, cancelled, timed_out)");
        e.outcome = s;
    }
    if (j.contains("steps")) {
        if (!j["steps"].is_object()) w.fail("expect.steps must map step ids to states");
        for (const auto& [k, v] : j["steps"].items()) {
            auto s = text_of(v, w, "expect.steps." + k);
            if (!core::parse_step_state(s)) w.fail("expect.steps." + k + ": \"" + s + "\" is not a step state");
            e.steps[k] = s;
        }
    }
    if (j.contains("outputs")) {
        if (!j["outputs"].is_object()) w.fail("expect.outputs must map step ids to outputs");
        for (const auto& [k, v] : j["outputs"].items()) e.outputs[k] = v;
    }
    if (j.contains("compensations")) {
        if (!j["compensations"].is_array()) w.fail("expect.compensations must be a list of step ids, in the order they run");
        std::vector<std::string> list;
        for (const auto& v : j["compensations"]) list.push_back(text_of(v, w, "each of expect.compensations"));
        e.compensations = std::move(list);
    }
    if (j.contains("error")) e.error = text_of(j["error"], w, "expect.error");
    return e;
}

test_case case_of(const core::json& j, std::size_t index, const std::string& file) {
    where w{file, "case " + std::to_string(index + 1)};
    if (!j.is_object()) w.fail("a case must be a map with name, inputs, steps, expect");
    if (!j.contains("name") || !j["name"].is_string() || j["name"].get<std::string>().empty()) w.fail("needs a name");
    test_case c;
    c.name = j["name"].get<std::string>();
    w.what = "case \"" + c.name + "\"";
    only_keys(j, {"name", "inputs", "steps", "compensations", "approvals", "expect"}, w, "the case");
    if (j.contains("inputs")) {
        if (!j["inputs"].is_object()) w.fail("inputs must map input names to values");
        c.inputs = j["inputs"];
    }
    c.steps = mocks_of(j.value("steps", core::json()), w, "steps");
    c.compensations = mocks_of(j.value("compensations", core::json()), w, "compensations");
    if (j.contains("approvals")) {
        if (!j["approvals"].is_object()) w.fail("approvals must map step ids to approve or reject");
        for (const auto& [k, v] : j["approvals"].items()) {
            auto s = text_of(v, w, "approvals." + k);
            if (s != "approve" && s != "reject") w.fail("approvals." + k + ": \"" + s + "\" is neither approve nor reject");
            c.approvals[k] = s == "approve";
        }
    }
    c.expect = expect_of(j.value("expect", core::json()), w);
    return c;
}

}  // namespace

case_file parse_case_file(const std::string& text, const std::string& file) {
    core::json j;
    try {
        j = to_json(read_yaml(text, reader_limits{}));
    } catch (const source_error& e) {
        throw core::error(core::error_kind::invalid_input, file + ":" + std::to_string(e.pos().line) + ": " + e.what());
    }
    if (!j.is_object() || !j.contains("cases") || !j["cases"].is_array() || j["cases"].empty())
        throw core::error(core::error_kind::invalid_input,
                          file + ": a case file needs `cases:`, a list of cases (see docs/workflow-testing.md)");
    where top{file, "the file"};
    only_keys(j, {"cases", "workflow"}, top, "the file");
    case_file out;
    out.file = file;
    std::map<std::string, bool> names;
    for (std::size_t i = 0; i < j["cases"].size(); ++i) {
        auto c = case_of(j["cases"][i], i, file);
        if (names[c.name]) throw core::error(core::error_kind::invalid_input, file + ": two cases are named \"" + c.name + "\"");
        names[c.name] = true;
        out.cases.push_back(std::move(c));
    }
    return out;
}

case_file load_case_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw core::error(core::error_kind::usage, "cannot read the case file " + path + ": " + std::strerror(errno));
    std::stringstream text;
    text << in.rdbuf();
    return parse_case_file(text.str(), path);
}

std::string default_case_file(const std::string& workflow_file) {
    const std::filesystem::path p(workflow_file);
    std::error_code ec;
    for (const auto& candidate : {p.parent_path() / (p.stem().string() + ".cases.yaml"), p.parent_path() / "cases" / (p.stem().string() + ".yaml")})
        if (std::filesystem::is_regular_file(candidate, ec)) return candidate.string();
    return {};
}

}  // namespace orbitmesh::engine
