#include <catch2/catch.hpp>

#include "engine/workflow/loader.hpp"

using namespace orbitmesh;

namespace {

const std::string data = ORBITMESH_WORKFLOW_DATA;

std::vector<std::string> lines_of(const engine::workflow_check& c) {
    std::vector<std::string> out;
    for (const auto& d : c.diagnostics) out.push_back(core::format(d));
    return out;
}

std::vector<std::string> check_yaml(const std::string& yaml) {
    return lines_of(engine::check_workflow_text(yaml, "w.yaml"));
}

}  // namespace

core::workflow_step make_step(std::string id, std::vector<std::string> needs);

TEST_CASE("workflow validate: an unknown dependency gets a did-you-mean with file:line") {
    auto c = engine::check_workflow_file(data + "/broken/unknown_dependency.yaml");
    CHECK(lines_of(c) == std::vector<std::string>{
                             data + "/broken/unknown_dependency.yaml:10: error: step \"deploy\" needs unknown step \"biuld\" "
                                    "(did you mean \"build\"?)"});
    CHECK(c.errors() == 1);
}

TEST_CASE("workflow validate: cycles are printed as a path, self-dependencies named") {
    auto c = engine::check_workflow_file(data + "/broken/cycle.yaml");
    REQUIRE(c.errors() == 2);
    CHECK(c.diagnostics[0].line == 5);
    CHECK(c.diagnostics[0].message == "dependency cycle: a -> c -> b -> a");
    CHECK(c.diagnostics[1].message == "step \"d\" depends on itself");
}

TEST_CASE("workflow validate: every problem of a file is reported at once, in line order") {
    auto c = engine::check_workflow_file(data + "/broken/many_problems.yaml");
    CHECK(c.errors() == 10);
    CHECK(c.warnings() == 3);
    std::vector<int> lines;
    for (const auto& d : c.diagnostics) lines.push_back(d.line);
    // Line 27's `channel: slack` is a channel name the hub's configuration resolves (serve --notify-channel).
    CHECK(lines == std::vector<int>{3, 7, 8, 9, 13, 16, 17, 18, 19, 20, 22, 24, 30});
    const auto text = lines_of(c);
    const std::string f = data + "/broken/many_problems.yaml";
    CHECK(text[0] == f + ":3: warning: unknown key \"timout\" in workflow (did you mean \"timeout\"?)");
    CHECK(text[1] == f + ":7: error: step \"build\": timeout \"30\" is a bare number, which is ambiguous "
                         "(write the unit: 30s, 30m or 30ms)");
    CHECK(text[2] == f + ":8: error: step \"build\" retry: delay is not a duration: \"5 minutes\" "
                         "(use 250ms, 30s, 5m, 1h, 2d, 1m30s or HH:MM:SS)");
    CHECK(text[3] == f + ":9: error: step id \"build\" is used twice (first at line 5) (step ids must be unique in the whole workflow)");
    CHECK(text[4] == f + ":13: error: step \"test\" has unknown type \"shell\" "
                         "(shell is a command, not a step type: write command: shell, or run: SCRIPT)");
    CHECK(text[5] == f + ":16: error: step \"deploy\" needs unknown step \"buidl\" (did you mean \"build\"?)");
    CHECK(text[6] == f + ":17: error: step \"deploy\" condition: expression \"${{ inputs.env = 'prod' }}\", column 16: "
                         "unexpected \"=\" (use == to compare; expressions cannot assign)");
    CHECK(c.diagnostics[6].column == 31);
    CHECK(text[7] == f + ":18: error: step \"deploy\" run: expression \"inputs.ref +\", column 14: expected a value, "
                         "found the end of the expression (the expression is incomplete)");
    CHECK(c.diagnostics[7].column == 40);
    CHECK(text[8] == f + ":19: warning: unknown key \"continue_on_eror\" in step \"deploy\" (did you mean \"continue_on_error\"?)");
    CHECK(text[9] == f + ":20: error: step \"pause\" is missing \"duration\" (add duration: e.g. 30s, 5m or 1h)");
    CHECK(text[12] == f + ":30: warning: key \"duration\" has no effect in step \"send\" (it is read by delay steps only)");
}

TEST_CASE("workflow validate: syntax errors in YAML and JSON carry their line") {
    auto y = engine::check_workflow_file(data + "/broken/syntax_error.yaml");
    REQUIRE(y.errors() == 1);
    CHECK(y.diagnostics[0].line == 5);
    CHECK(y.diagnostics[0].message.rfind("YAML syntax error: ", 0) == 0);
    CHECK_FALSE(y.parsed);
    auto j = engine::check_workflow_file(data + "/broken/syntax_error.json");
    REQUIRE(j.errors() == 1);
    CHECK(j.diagnostics[0].line == 5);
    CHECK(j.diagnostics[0].message.rfind("JSON syntax error: ", 0) == 0);
}

TEST_CASE("workflow validate: unknown keys are warnings, so the file is still valid") {
    auto c = engine::check_workflow_text("steps:\n  - id: a\n    run: x\n    colour: blue\n", "w.yaml");
    CHECK(c.ok());
    CHECK(lines_of(c) == std::vector<std::string>{"w.yaml:4: warning: unknown key \"colour\" in step \"a\" (it is ignored)"});
}

TEST_CASE("workflow validate: missing required keys are named per step type") {
    const auto out = check_yaml(
        "steps:\n"
        "  - id: j\n"                                  // 2: job without command
        "  - {id: p, type: parallel}\n"                // 3
        "  - {id: f, type: foreach, collection: [1]}\n"  // 4: no steps
        "  - {id: e, type: wait_for_event}\n"          // 5
        "  - {id: s, type: sub_workflow}\n"            // 6
        "  - {id: t, type: transform}\n"               // 7
        "  - {id: n, type: notify, message: hi}\n"     // 8
        "  - {type: delay, duration: 1s}\n");          // 9: no id
    CHECK(out == std::vector<std::string>{
                     "w.yaml:2: error: step \"j\" is missing \"command\" (add command: HANDLER (e.g. shell, echo, system.info), "
                     "or run: SCRIPT for a shell job)",
                     "w.yaml:3: error: step \"p\" is missing \"branches\" (add branches: a list of steps to run at once)",
                     "w.yaml:4: error: step \"f\" is missing \"steps\" (add steps: the steps to run for each item)",
                     "w.yaml:5: error: step \"e\" is missing \"event_type\" (add event_type: the type of event to wait for)",
                     "w.yaml:6: error: step \"s\" is missing \"workflow_id\" (add workflow_id: the id of the workflow to start)",
                     "w.yaml:7: error: step \"t\" is missing \"expression\" (add expression: EXPRESSION (e.g. inputs.env == 'prod'))",
                     "w.yaml:8: error: step \"n\" is missing \"target\" (add target: the URL to POST to)",
                     "w.yaml:9: error: step #8 of workflow is missing \"id\" (add id: NAME (steps refer to each other by id))",
                 });
}

TEST_CASE("workflow validate: nested step lists are checked as their own DAGs") {
    const auto out = check_yaml(
        "steps:\n"
        "  - id: outer\n"
        "    run: x\n"
        "  - id: loop\n"
        "    type: foreach\n"
        "    collection: [1, 2]\n"
        "    steps:\n"
        "      - id: inner\n"
        "        run: y\n"
        "        needs: [outer]\n"   // 10: not in the same list
        "      - id: inner2\n"
        "        run: z\n"
        "        needs: [iner]\n");  // 13: typo
    CHECK(out == std::vector<std::string>{
                     "w.yaml:10: error: step \"inner\" needs \"outer\", which is in another step list (depends_on names steps "
                     "of the same list; nested steps start after their parent's dependencies)",
                     "w.yaml:13: error: step \"inner2\" needs unknown step \"iner\" (did you mean \"inner\"?)",
                 });
}

TEST_CASE("workflow validate: expressions that read unknown steps are warnings") {
    const auto out = check_yaml(
        "steps:\n"
        "  - id: build\n"
        "    run: make\n"
        "  - id: deploy\n"
        "    needs: build\n"
        "    condition: steps.biuld.status == 'succeeded'\n"
        "    command: echo\n"
        "    payload: {v: '${{ steps.build.output.v }}', w: '${{ steps.nope.output }}'}\n");
    CHECK(out == std::vector<std::string>{
                     "w.yaml:6: warning: step \"deploy\" condition reads steps.biuld, which is not a step (did you mean \"build\"?)",
                     "w.yaml:8: warning: step \"deploy\" payload reads steps.nope, which is not a step (it will read null)",
                 });
}

TEST_CASE("workflow validate: duplicate keys, wrong value types and bad enums are errors") {
    const auto out = check_yaml(
        "steps:\n"
        "  - id: a\n"
        "    run: x\n"
        "    run: y\n"
        "    priority: high\n"
        "    continue_on_error: maybe\n"
        "    on_agent_lost: explode\n"
        "    retry: {max: 2, backoff: quadratic}\n");
    CHECK(out == std::vector<std::string>{
                     "w.yaml:4: error: key \"run\" appears twice in step #1 of workflow (first at line 3) (remove one of them; "
                     "YAML keys must be unique)",
                     "w.yaml:5: error: step \"a\": priority must be a whole number from -1000000 to 1000000, not \"high\"",
                     "w.yaml:6: error: step \"a\": continue_on_error must be true or false, not \"maybe\"",
                     "w.yaml:7: error: step \"a\": on_agent_lost is \"explode\" (use reassign, wait or fail)",
                     "w.yaml:8: error: step \"a\" retry: backoff is \"quadratic\" (use exponential, linear or fixed)",
                 });
}

TEST_CASE("workflow validate: triggers are checked") {
    const auto out = check_yaml(
        "triggers:\n"
        "  - {type: schedule, cron: '0 3 * *'}\n"
        "  - {type: cron}\n"
        "  - {type: event}\n"
        "  - {type: webhook, input_mapping: {ref: 'body.ref +'}}\n"
        "steps:\n"
        "  - {id: a, run: x}\n");
    CHECK(out == std::vector<std::string>{
                     "w.yaml:2: error: trigger #1: cron \"0 3 * *\" has 4 fields (use 5: minute hour day-of-month month "
                     "day-of-week, or 6 with seconds first)",
                     "w.yaml:3: error: trigger #2 has unknown type \"cron\" (use manual, schedule, webhook or event (or the "
                     "original's job_completion, file_watch))",
                     "w.yaml:4: error: trigger #3 is missing \"event_type\" (add event_type: the event that starts a run)",
                     "w.yaml:5: error: trigger #4 input_mapping \"ref\": expression \"body.ref +\", column 11: expected a value, "
                     "found the end of the expression (the expression is incomplete)",
                 });
}

TEST_CASE("workflow validate: inputs with a bad type or default are errors") {
    const auto out = check_yaml(
        "inputs:\n"
        "  count: {type: integr, default: 3}\n"
        "  env: {type: string, default: dev, allowed_values: [staging, prod]}\n"
        "  n: {type: integer, default: many}\n"
        "steps:\n"
        "  - {id: a, run: x}\n");
    CHECK(out == std::vector<std::string>{
                     "w.yaml:2: error: workflow input \"count\": type is \"integr\" (use string, integer, number, boolean, array, "
                     "object or datetime)",
                     "w.yaml:3: error: workflow input \"env\": default \"dev\" is not one of allowed_values",
                     "w.yaml:4: error: workflow input \"n\": default \"many\" is not integer",
                 });
}

core::workflow_step make_step(std::string id, std::vector<std::string> needs) {
    core::workflow_step s;
    s.id = std::move(id);
    s.depends_on = std::move(needs);
    return s;
}

TEST_CASE("workflow validate: validate() checks a model built in code") {
    core::workflow wf;
    wf.steps.push_back(make_step("a", {"b"}));
    wf.steps.push_back(make_step("b", {"a"}));
    const auto out = engine::validate(wf);
    REQUIRE(out.size() == 1);
    CHECK(out[0].message == "dependency cycle: a -> b -> a");
}
