#include <catch2/catch.hpp>

#include "core/workflow_inputs.hpp"
#include "engine/workflow/loader.hpp"

using namespace orbitmesh;
using core::json;
using core::step_type;

namespace {

const std::string data = ORBITMESH_WORKFLOW_DATA;

engine::workflow_check check_file(const std::string& name) {
    auto c = engine::check_workflow_file(data + "/" + name);
    for (const auto& d : c.diagnostics) UNSCOPED_INFO(core::format(d));
    return c;
}

const core::workflow_step& step(const core::step_list& steps, const std::string& id) {
    const auto* s = core::find_step(steps, id);
    REQUIRE(s != nullptr);
    return *s;
}

template <typename T>
const T& config(const core::workflow_step& s) {
    REQUIRE(std::holds_alternative<T>(s.config));
    return std::get<T>(s.config);
}

}  // namespace

TEST_CASE("workflow loader: a realistic release workflow loads without a single diagnostic") {
    auto c = check_file("valid/release.yaml");
    CHECK(c.diagnostics.empty());
    const auto& wf = c.workflow;
    CHECK(wf.id == "release");
    CHECK(wf.version == "2.1");
    CHECK(wf.tags == std::vector<std::string>{"release", "web"});
    CHECK(wf.variables["region"] == "eu-west");
    CHECK(wf.timeout_ms == 7'200'000);
    CHECK(wf.concurrency == 1);
    CHECK(wf.steps.size() == 10);
    CHECK(core::count_steps(wf.steps) == 15);
    CHECK(wf.on_error.strategy == core::error_strategy::stop);
    CHECK(wf.on_error.compensate);
}

TEST_CASE("workflow loader: job steps read run:, payloads, targets, retries and timeouts") {
    const auto wf = check_file("valid/release.yaml").workflow;
    const auto& build = step(wf.steps, "build");
    REQUIRE(build.job() != nullptr);
    CHECK(build.job()->command == "shell");
    CHECK(build.job()->payload.get<std::string>().find("make release REF=\"${{ inputs.ref }}\"") != std::string::npos);
    CHECK(build.job()->target.capabilities == std::vector<std::string>{"docker"});
    CHECK(build.job()->target.tags.at("arch") == "amd64");
    CHECK(build.timeout_ms == 1'200'000);
    CHECK(build.retry.max == 2);
    CHECK(build.retry.delay_ms == 10'000);
    CHECK(build.retry.max_delay_ms == 60'000);
    CHECK(build.job()->retry.max == 2);
    CHECK(build.output_variable == "build_result");

    const auto& tests = step(wf.steps, "unit-tests");
    CHECK(tests.depends_on == std::vector<std::string>{"build"});
    CHECK(tests.job()->payload == json::parse(R"({"script": "make test", "env": {"REF": "${{ inputs.ref }}"}, "cwd": "/src"})"));
    const auto& lint = step(wf.steps, "lint");
    CHECK(lint.depends_on == std::vector<std::string>{"build"});
    CHECK(lint.job()->payload == json::parse(R"(["make", "lint"])"));
    CHECK(lint.continue_on_error);
}

TEST_CASE("workflow loader: every step type of the SPEC table is read") {
    const auto wf = check_file("valid/release.yaml").workflow;
    const auto& checks = config<core::parallel_step>(step(wf.steps, "checks"));
    CHECK(checks.branches.size() == 2);
    CHECK(checks.max_concurrency == 2);
    CHECK_FALSE(checks.fail_fast);
    CHECK(checks.branches[1].job()->target.agent == "web*");

    const auto& gate = config<core::conditional_step>(step(wf.steps, "gate"));
    CHECK(gate.expression == "inputs.environment == 'production' && !inputs.dry_run");
    const auto& approval = config<core::approval_step>(gate.then_steps.at(0));
    CHECK(approval.approvers == std::vector<std::string>{"alice", "bob"});
    CHECK(approval.timeout_action == core::approval_timeout_action::reject);
    CHECK(gate.then_steps[0].timeout_ms == 14'400'000);
    CHECK(config<core::delay_step>(gate.else_steps.at(0)).duration_ms == 30'000);

    const auto& rollout = config<core::foreach_step>(step(wf.steps, "rollout"));
    CHECK(rollout.collection == "${{ inputs.hosts }}");
    CHECK(rollout.item_variable == "host");
    CHECK(rollout.index_variable == "index");
    CHECK(rollout.max_concurrency == 2);
    const auto& deploy = rollout.steps.at(0);
    CHECK(deploy.on_agent_lost == core::agent_lost_policy::fail);
    REQUIRE(deploy.compensation);
    CHECK(deploy.compensation->command == "shell");
    CHECK(deploy.compensation->payload == "rollback --host ${{ host }}");
    CHECK(deploy.compensation->timeout_ms == 300'000);
    CHECK(deploy.compensation->retry.max == 3);

    CHECK(config<core::transform_step>(step(wf.steps, "summary")).expression.rfind("{ref: inputs.ref", 0) == 0);
    const auto& wait = config<core::wait_for_event_step>(step(wf.steps, "wait-for-smoke"));
    CHECK(wait.event_type == "smoke.finished");
    CHECK(wait.correlation_key == "${{ run.id }}");
    const auto& child = config<core::sub_workflow_step>(step(wf.steps, "child"));
    CHECK(child.workflow_id == "post-release");
    CHECK(child.input["summary"] == "${{ steps.summary.output }}");
    CHECK_FALSE(child.wait_for_completion);
    const auto& notify = config<core::notify_step>(step(wf.steps, "tell-chat"));
    CHECK(notify.target == "https://chat.example.com/hooks/release");
    CHECK(notify.message["text"].get<std::string>().find("$${{ not.an.expression }}") != std::string::npos);
    CHECK(step(wf.steps, "tell-chat").condition == "steps.summary.output.ok");
}

TEST_CASE("workflow loader: inputs and all four trigger types are read") {
    const auto wf = check_file("valid/release.yaml").workflow;
    REQUIRE(wf.inputs.size() == 4);
    CHECK(wf.inputs[0].name == "ref");
    CHECK(wf.inputs[0].required);
    CHECK(wf.inputs[1].type == "array");
    CHECK(wf.inputs[1].default_value == json::parse(R"(["web1", "web2"])"));
    CHECK(wf.inputs[3].allowed_values == std::vector<json>{"staging", "production"});
    REQUIRE(wf.triggers.size() == 4);
    CHECK(wf.triggers[0].type == core::trigger_type::manual);
    CHECK(wf.triggers[1].cron == "0 3 * * *");
    CHECK(wf.triggers[1].timezone == "Europe/Paris");
    CHECK(wf.triggers[2].type == core::trigger_type::webhook);
    CHECK(wf.triggers[2].input_mapping == json::parse(R"({"ref": "body.ref"})"));
    CHECK(wf.triggers[3].event_type == "git.tag");
    CHECK(wf.triggers[3].filter == "starts_with(event.data.tag, 'v')");
}

TEST_CASE("workflow loader: every step and key keeps its line") {
    const auto wf = check_file("valid/release.yaml").workflow;
    CHECK(step(wf.steps, "build").pos.line == 50);
    CHECK(step(wf.steps, "build").line_of("timeout") == 58);
    CHECK(step(wf.steps, "unit-tests").line_of("needs") == 63);
    CHECK(step(wf.steps, "settle").pos.line == 103);
    CHECK(step(wf.steps, "settle").line_of("duration") == 105);
    CHECK(step(wf.steps, "deploy-host").pos.line == 114);
    CHECK(wf.inputs[1].pos.line == 18);
    CHECK(wf.triggers[1].pos.line == 35);
}

TEST_CASE("workflow loader: the original format's aliases and keys keep working") {
    auto c = check_file("valid/original_format.yaml");
    CHECK(c.diagnostics.empty());
    const auto& wf = c.workflow;
    CHECK(wf.id == "orbit:builtin:disk-cleanup");
    const auto& disk = step(wf.steps, "check-disk");
    CHECK(disk.job()->command == "orbit:system.info");
    CHECK(disk.job()->target.agent.empty());  // pattern "*" = any agent
    CHECK(disk.retry.max == 2);
    CHECK(disk.retry.delay_ms == 5'000);
    CHECK(step(wf.steps, "decide").type == step_type::conditional);
    CHECK(step(wf.steps, "cleanup-each").type == step_type::foreach);
    CHECK(config<core::foreach_step>(step(wf.steps, "cleanup-each")).steps.size() == 1);
    CHECK(step(wf.steps, "cleanup-path").job()->target.capabilities == std::vector<std::string>{"linux"});
    CHECK(step(wf.steps, "nothing-to-do").type == step_type::transform);
    CHECK(config<core::delay_step>(step(wf.steps, "pause")).duration_ms == 30'000);
    CHECK(step(wf.steps, "manager-ok").type == step_type::approval);
    CHECK(config<core::approval_step>(step(wf.steps, "manager-ok")).timeout_action == core::approval_timeout_action::approve);
    CHECK(step(wf.steps, "wait-ack").type == step_type::wait_for_event);
    CHECK(step(wf.steps, "report").type == step_type::sub_workflow);
    REQUIRE(wf.inputs.size() == 3);  // from the manual trigger's input_schema
    CHECK(wf.inputs[1].type == "integer");
    CHECK(wf.inputs[1].default_value == 7);
    CHECK(wf.inputs[2].type == "array");
    CHECK(wf.on_error.strategy == core::error_strategy::stop);
    CHECK(wf.on_error.compensate);
}

TEST_CASE("workflow loader: JSON files load into the same model, with lines") {
    auto c = check_file("valid/small.json");
    CHECK(c.diagnostics.empty());
    const auto& wf = c.workflow;
    CHECK(wf.id == "json-pipeline");
    CHECK(wf.inputs.at(0).default_value == 3);
    CHECK(step(wf.steps, "prepare").job()->command == "shell");
    CHECK(step(wf.steps, "work").depends_on == std::vector<std::string>{"prepare"});
    CHECK(step(wf.steps, "work").job()->payload == json::parse(R"({"n": "${{ inputs.count * 2 }}"})"));
    CHECK(step(wf.steps, "work").retry.delay_ms == 2'000);
    CHECK(step(wf.steps, "prepare").pos.line == 8);
    CHECK(step(wf.steps, "work").line_of("needs") == 11);
    CHECK(step(wf.steps, "done").pos.line == 16);
}

TEST_CASE("workflow loader: the same workflow in YAML and JSON gives the same model") {
    const std::string yaml = "id: same\nsteps:\n  - id: a\n    command: echo\n    payload: {x: [1, 2.5, true, null, 's']}\n"
                             "  - id: b\n    needs: a\n    type: delay\n    duration: 1m30s\n";
    const std::string json_text = R"({"id": "same", "steps": [
        {"id": "a", "command": "echo", "payload": {"x": [1, 2.5, true, null, "s"]}},
        {"id": "b", "needs": "a", "type": "delay", "duration": "1m30s"}]})";
    const auto y = engine::load_workflow_text(yaml, "same.yaml");
    const auto j = engine::load_workflow_text(json_text, "same.json");
    CHECK(y.steps[0].job()->payload == j.steps[0].job()->payload);
    CHECK(y.steps[1].depends_on == j.steps[1].depends_on);
    CHECK(config<core::delay_step>(y.steps[1]).duration_ms == 90'000);
    CHECK(config<core::delay_step>(j.steps[1]).duration_ms == 90'000);
}

TEST_CASE("workflow loader: the id defaults to the file name and YAML merge keys work") {
    const std::string yaml = "defaults: &d {command: echo, timeout: 5s}\nsteps:\n  - <<: *d\n    id: a\n  - <<: *d\n    id: b\n    timeout: 1m\n";
    auto c = engine::check_workflow_text(yaml, "dir/nightly-backup.yaml");
    REQUIRE(c.errors() == 0);
    CHECK(c.workflow.id == "nightly-backup");
    CHECK(c.workflow.steps[0].timeout_ms == 5'000);
    CHECK(c.workflow.steps[1].timeout_ms == 60'000);
    CHECK(c.workflow.steps[1].job()->command == "echo");
    REQUIRE(c.warnings() == 1);  // `defaults` is not a workflow key
    CHECK(c.diagnostics[0].message == "unknown key \"defaults\" in workflow");
}

TEST_CASE("workflow loader: load_workflow_text throws the first error with the count of the rest") {
    const std::string yaml = "steps:\n  - id: a\n    needs: [zz]\n    run: x\n  - id: b\n    type: wait\n";
    try {
        engine::load_workflow_text(yaml, "w.yaml");
        FAIL("no error");
    } catch (const core::error& e) {
        CHECK(e.kind() == core::error_kind::invalid_input);
        CHECK(std::string(e.what()) ==
              "w.yaml:3: error: step \"a\" needs unknown step \"zz\" (check the spelling; depends_on names step ids) "
              "(and 1 more error; run `orbitmesh workflow validate` to see them all)");
    }
}

TEST_CASE("workflow inputs: given values are checked, converted from text and defaulted") {
    const auto wf = check_file("valid/release.yaml").workflow;
    const json in = core::resolve_inputs(wf, json{{"ref", "v1.2"}, {"dry_run", "true"}});
    CHECK(in["hosts"] == json::parse(R"(["web1", "web2"])"));
    CHECK(in["dry_run"] == true);
    CHECK(in["environment"] == "staging");
    CHECK_THROWS_WITH(core::resolve_inputs(wf, json{{"environment", "prod"}, {"hots", json::array()}}),
                      "workflow \"release\": input \"ref\" is required; input \"environment\" is \"prod\" but must be one of "
                      "\"staging\", \"production\"; unknown input \"hots\" (did you mean \"hosts\"?)");
}
