// The original OrbitMesh's format as the loader reads it: the dialect, its ${…}, list order,
// script/http/notification steps, args:, its triggers and what they map onto; the http allow-list.
#include <catch2/catch.hpp>

#include "core/error.hpp"
#include "engine/workflow/http_policy.hpp"
#include "engine/workflow/loader.hpp"
#include "engine/workflow/trigger_mapping.hpp"

using namespace orbitmesh;
using core::json;

namespace {

const std::string data = ORBITMESH_WORKFLOW_DATA;

engine::workflow_check load(const std::string& text) {
    auto c = engine::check_workflow_text(text, "w.yaml");
    for (const auto& d : c.diagnostics) UNSCOPED_INFO(core::format(d));
    return c;
}

const core::workflow_step& step(const core::workflow& wf, const std::string& id) {
    const auto* s = core::find_step(wf.steps, id);
    REQUIRE(s != nullptr);
    return *s;
}

std::vector<std::string> errors(const engine::workflow_check& c) {
    std::vector<std::string> out;
    for (const auto& d : c.diagnostics)
        if (d.level == core::severity::error) out.push_back(core::format(d));
    return out;
}

}  // namespace

TEST_CASE("original format: every file of the original-format suite loads without a problem") {
    for (const char* name : {"disk-report", "ordered-deploy", "http-notify", "file-watch", "job-failure-alert"}) {
        auto c = engine::check_workflow_file(data + "/original/" + name + ".yaml");
        INFO(name);
        for (const auto& d : c.diagnostics) UNSCOPED_INFO(core::format(d));
        CHECK(c.diagnostics.empty());
        CHECK_FALSE(c.workflow.original_dialect.empty());
    }
}

TEST_CASE("original format: the dialect is told by the file, and format: decides when written") {
    CHECK(engine::check_workflow_file(data + "/valid/release.yaml").workflow.original_dialect.empty());
    auto ours = load("steps:\n  - id: a\n    run: echo ${HOME}\n");
    CHECK(ours.workflow.original_dialect.empty());  // a shell's ${VAR} in run: is no sign
    auto theirs = load("steps:\n  - id: a\n    command: echo\n    payload: \"${input.x}\"\n");
    CHECK(theirs.workflow.original_dialect == "it uses ${…} expressions (line 4)");
    CHECK(step(theirs.workflow, "a").job()->payload == "${{ input.x }}");
    auto mixed = load("steps:\n  - id: a\n    command: echo\n    payload: \"${input.x} ${{ inputs.y }}\"\n");
    CHECK(mixed.workflow.original_dialect.empty());  // whoever writes ${{ }} writes ours
    auto forced = load("format: orbitmesh\nsteps:\n  - id: a\n    type: script\n    script: return 1\n");
    CHECK(forced.workflow.original_dialect.empty());
    CHECK(errors(load("format: v9\nsteps:\n  - {id: a, run: x}\n")) ==
          std::vector<std::string>{"w.yaml:1: error: workflow format \"v9\" is unknown (use format: original (the original "
                                   "OrbitMesh's ${…} and step order) or format: orbitmesh)"});
}

TEST_CASE("original format: ${…} our language reads the same stays ours, the rest goes to JavaScript") {
    auto c = load(R"(steps:
  - id: a
    type: job
    command: orbit:echo
    pattern: "${input.agent_pattern ?? '*'}"
    payload:
      n: "${count + 1}"
      list: "${items.map(i => i.name).join(', ')}"
      text: "total ${items.length} items"
    condition: "${ready === true}"
  - id: b
    type: notification
    message: "plain ${a.b} and ${`tpl ${x}`}"
)");
    REQUIRE(c.ok());
    const auto& a = step(c.workflow, "a");
    CHECK(a.job()->target.agent == "${{ input.agent_pattern ?? '*' }}");
    CHECK(a.job()->fan_out_all);  // pattern: went to every matching agent in the original
    CHECK(a.job()->per_agent_results);
    CHECK(a.job()->payload["n"] == "${{ count + 1 }}");
    CHECK(a.condition == "__js.e0");  // the condition is read first, then payload keys in order
    CHECK(a.job()->payload["list"] == "${{ __js.e1 }}");
    CHECK(a.job()->payload["text"] == "total ${{ __js.e2 }} items");  // .length is JavaScript's
    REQUIRE(a.js.size() == 3);
    CHECK(a.js[0].source == "ready === true");
    CHECK(a.js[0].line == 10);
    CHECK(a.js[1].source == "items.map(i => i.name).join(', ')");
    CHECK(a.js[1].field == "payload");
    CHECK(a.js[2].source == "items.length");
    CHECK(a.js[2].line == 6);
    const auto& b = step(c.workflow, "b");
    CHECK(std::get<core::notify_step>(b.config).message == "plain ${{ a.b }} and ${{ __js.e0 }}");
    CHECK(b.js.at(0).source == "`tpl ${x}`");
}

TEST_CASE("original format: steps wait for the step before them, except parallel branches") {
    auto c = load(R"(steps:
  - {id: one, type: script, script: return 1}
  - {id: two, type: script, script: return 2}
  - id: three
    type: script
    depends_on: [one]
    script: return 3
  - id: fan
    type: parallel
    branches:
      - {id: left, type: script, script: return 1}
      - {id: right, type: script, script: return 2}
  - id: maybe
    type: if
    expression: "${x === 1}"
    then:
      - {id: t1, type: script, script: return 1}
      - {id: t2, type: script, script: return 2}
)");
    REQUIRE(c.ok());
    const auto& wf = c.workflow;
    CHECK(step(wf, "one").depends_on.empty());
    CHECK(step(wf, "two").depends_on == std::vector<std::string>{"one"});
    CHECK(step(wf, "two").implicit_order);
    CHECK(step(wf, "three").depends_on == std::vector<std::string>{"one"});  // as written
    CHECK_FALSE(step(wf, "three").implicit_order);
    CHECK(step(wf, "fan").depends_on == std::vector<std::string>{"three"});
    CHECK(step(wf, "right").depends_on.empty());
    CHECK(step(wf, "t2").depends_on == std::vector<std::string>{"t1"});
    CHECK(std::get<core::conditional_step>(step(wf, "maybe").config).expression == "__js.e0");
}

TEST_CASE("original format: args merge into the payload; a clash or a non-map payload is an error") {
    auto c = load("steps:\n  - id: a\n    command: orbit:shell\n    payload: {cwd: /tmp}\n    args:\n      script: \"echo ${x}\"\n");
    REQUIRE(c.ok());
    CHECK(step(c.workflow, "a").job()->payload == json{{"cwd", "/tmp"}, {"script", "echo ${{ x }}"}});
    CHECK(errors(load("steps:\n  - id: a\n    command: x\n    payload: {k: 1}\n    args: {k: 2}\n")) ==
          std::vector<std::string>{"w.yaml:5: error: step \"a\": args \"k\" is also a key of payload (keep it in one of them)"});
    CHECK(errors(load("steps:\n  - id: a\n    command: x\n    payload: text\n    args: {k: 2}\n")).size() == 1);
}

TEST_CASE("original format: script, http and notification steps read their keys") {
    auto c = load(R"(steps:
  - id: s
    type: script
    language: javascript
    script: |
      const a = 1;
      return a;
  - id: h
    type: http
    method: post
    url: http://127.0.0.1:9/x
    headers: {X-A: "1"}
    body: {k: v}
    expected_status: [200, 204]
    timeout: 5s
  - id: n
    type: notification
    subject: Hello
    message: hi
    severity: warning
)");
    REQUIRE(c.ok());
    const auto& s = std::get<core::script_step>(step(c.workflow, "s").config);
    CHECK(s.code == "const a = 1;\nreturn a;\n");
    CHECK(s.code_line == 6);
    const auto& h = std::get<core::http_step>(step(c.workflow, "h").config);
    CHECK(h.method == "POST");
    CHECK(h.headers == json{{"X-A", "1"}});
    CHECK(h.body == json{{"k", "v"}});
    CHECK(h.expected_status == std::vector<int>{200, 204});
    CHECK(step(c.workflow, "h").timeout_ms == 5000);
    const auto& n = std::get<core::notify_step>(step(c.workflow, "n").config);
    CHECK(n.channel == "default");
    CHECK(n.title == "Hello");
    CHECK(n.severity == "warning");

    auto bad = errors(load("steps:\n  - {id: s, type: script, language: python, script: print(1)}\n"
                           "  - {id: h, type: http, method: FETCH, url: http://x/, expected_status: 700}\n"
                           "  - {id: n, type: notify, message: hi}\n"));
    REQUIRE(bad.size() == 4);
    CHECK(bad[0].find("language \"python\" is not supported") != std::string::npos);
    CHECK(bad[1].find("\"FETCH\" is not an HTTP method") != std::string::npos);
    CHECK(bad[2].find("\"700\" is not an HTTP status") != std::string::npos);
    CHECK(bad[3].find("step \"n\" is missing \"target\"") != std::string::npos);  // ours: a webhook needs its URL
}

TEST_CASE("original format: job_completion and file_watch triggers map onto event triggers") {
    auto c = load(R"(triggers:
  - id: failed
    type: job_completion
    command_pattern: "deploy.*"
    statuses: [Failed, TimedOut]
  - id: drop
    type: file_watch
    agent_pattern: "edge-*"
    watch_path: "${config.drop}"
    filter: "*.csv"
    change_types: [Created, Modified]
    debounce_ms: 250
    input_mapping:
      file: "${event.path}"
steps:
  - {id: a, run: "true"}
)");
    REQUIRE(c.ok());
    const auto& t = c.workflow.triggers;
    REQUIRE(t.size() == 2);
    CHECK(t[0].type == core::trigger_type::event);
    CHECK(t[0].origin == "job_completion");
    CHECK(t[0].event_type == "job.finished");
    CHECK(t[0].command_pattern == "deploy.*");
    CHECK(t[0].job_states == std::vector<std::string>{"failed", "timed_out"});
    CHECK(t[1].event_type == "file.changed");
    CHECK(t[1].watch_path == "${{ config.drop }}");
    CHECK(t[1].watch_filter == "*.csv");
    CHECK(t[1].change_types == std::vector<std::string>{"created", "modified"});
    CHECK(t[1].debounce_ms == 250);
    CHECK(t[1].input_mapping == json{{"file", "${event.path}"}});

    json job{{"command", "deploy.web"}, {"state", "failed"}, {"agent", {{"id", "x"}, {"name", "edge-1"}}}};
    CHECK(engine::job_completion_matches(t[0], job));
    job["state"] = "succeeded";
    CHECK_FALSE(engine::job_completion_matches(t[0], job));
    job["state"] = "timed_out";
    job["command"] = "build";
    CHECK_FALSE(engine::job_completion_matches(t[0], job));

    json change{{"watch_id", "wf/drop"}, {"change", "created"}, {"agent", {{"name", "edge-7"}}}};
    CHECK(engine::file_event_matches(t[1], "wf", change));
    change["change"] = "deleted";
    CHECK_FALSE(engine::file_event_matches(t[1], "wf", change));
    change["change"] = "modified";
    change["agent"]["name"] = "core-1";
    CHECK_FALSE(engine::file_event_matches(t[1], "wf", change));
    auto job_spec = engine::file_watch_job("wf", t[1]);
    CHECK(job_spec.command == "filewatch.start");
    CHECK(job_spec.target.agent == "edge-*");
    CHECK(job_spec.payload["watch_id"] == "wf/drop");
    CHECK(job_spec.payload["debounce_ms"] == 250);

    CHECK(errors(load("triggers:\n  - {id: x, type: job_completion, statuses: [Exploded]}\nsteps:\n  - {id: a, run: x}\n")).size() == 1);
}

TEST_CASE("http policy: the hub itself, link-local and metadata addresses are protected unless named") {
    engine::http_policy open;
    open.set_hub("127.0.0.1", 7420);
    CHECK(open.check("example.com", "93.184.216.34", 80).empty());
    CHECK(open.check("localhost", "127.0.0.1", 8080).empty());
    CHECK(open.check("localhost", "127.0.0.1", 7420).find("the hub itself") != std::string::npos);
    CHECK(open.check("x", "127.0.0.2", 7420).find("the hub itself") != std::string::npos);
    CHECK(open.check("x", "169.254.169.254", 80).find("metadata") != std::string::npos);
    CHECK(open.check("x", "::ffff:169.254.169.254", 80).find("metadata") != std::string::npos);
    CHECK(open.check("x", "fe80::1", 80).find("link-local") != std::string::npos);
    CHECK(open.check("x", "0.0.0.0", 80).find("unspecified") != std::string::npos);

    engine::http_policy strict({"*.internal.example", "10.1.0.0/16", "127.0.0.1:9000", "169.254.169.254"});
    strict.set_hub("0.0.0.0", 7420);
    CHECK(strict.check("api.internal.example", "192.0.2.1", 443).empty());
    CHECK(strict.check("10.1.2.3", "10.1.2.3", 80).empty());
    CHECK(strict.check("localhost", "127.0.0.1", 9000).empty());
    CHECK(strict.check("localhost", "127.0.0.1", 9001).find("not in the hub's allow-list") != std::string::npos);
    CHECK(strict.check("example.com", "93.184.216.34", 80).find("not in the hub's allow-list") != std::string::npos);
    CHECK(strict.check("meta", "169.254.169.254", 80).empty());  // named: allowed
    CHECK(strict.check("x", "127.0.0.1", 7420).find("the hub itself") != std::string::npos);

    CHECK_THROWS_WITH(engine::http_policy({"10.0.0.0/99"}), Catch::Contains("--http-allow 10.0.0.0/99"));
    CHECK_THROWS_WITH(engine::http_policy({"a b"}), Catch::Contains("use *, HOST"));
}

TEST_CASE("original format: a pattern: job read as a list fans out, read as one result it is one job") {
    auto c = load(R"(steps:
  - {id: health, command: orbit:system.health, pattern: "*", output_variable: healthResults}
  - id: count
    type: script
    script: |
      const all = context.healthResults || [];
      return all.filter(r => r.status === 'Completed').length;
  - {id: check, command: orbit:update.check, pattern: "${input.p}", output_variable: updateInfo}
  - {id: use, command: echo, condition: "${updateInfo.updateAvailable}", payload: "${updateInfo.package.version}"}
  - {id: apply, command: orbit:update.apply, pattern: "${input.p}"}
  - {id: every, command: orbit:update.status, pattern: "*", fan_out: all, output_variable: st}
  - {id: after, command: echo, payload: "${st.version}"}
)");
    REQUIRE(c.ok());
    const auto& wf = c.workflow;
    CHECK(step(wf, "health").job()->per_agent_results);  // read with .filter: the per-agent list
    CHECK(step(wf, "health").dialect_note.empty());
    const auto& check = step(wf, "check");  // read as one result only: one job, as the original's engine ran it
    CHECK_FALSE(check.job()->fan_out_all);
    CHECK_FALSE(check.job()->per_agent_results);
    CHECK(check.job()->target.agent == "${{ input.p }}");
    CHECK(check.dialect_note.find("because the file reads it as one result (updateInfo.updateAvailable, line 9)") !=
          std::string::npos);
    CHECK(step(wf, "apply").job()->per_agent_results);  // never read, and the file reads lists too: as written
    CHECK(step(wf, "every").job()->fan_out_all);  // fan_out: all is kept as written
}

TEST_CASE("original format: a file that reads pattern: outputs only as one result is one job throughout") {
    auto c = load(R"(steps:
  - {id: check, command: orbit:update.check, pattern: "${input.p}", output_variable: info}
  - {id: apply, command: orbit:update.apply, pattern: "${input.p}", condition: "${info?.ok}"}
  - {id: verify, command: orbit:update.status, pattern: "${input.p}", output_variable: status}
  - {id: first, command: echo, payload: "${steps.verify.output}"}
)");
    REQUIRE(c.ok());
    for (const char* id : {"check", "apply", "verify"}) {
        INFO(id);
        CHECK_FALSE(step(c.workflow, id).job()->fan_out_all);
    }
    CHECK(step(c.workflow, "apply").dialect_note.find("this file reads pattern: outputs as one result (info.ok, line 3)") !=
          std::string::npos);
    auto lists = load(R"(steps:
  - {id: check, command: orbit:update.check, pattern: "*", output_variable: info}
  - {id: pick, command: echo, payload: "${info[0].result.version}"}
  - {id: other, command: orbit:update.check, pattern: "*", output_variable: more}
  - {id: use, command: echo, payload: "${more.version}"}
)");
    REQUIRE(lists.ok());
    CHECK(step(lists.workflow, "check").job()->per_agent_results);  // info[0]: a list
    CHECK_FALSE(step(lists.workflow, "other").job()->per_agent_results);  // more.version: one result
}

TEST_CASE("original format: a timeout computed from the run's data is a template, evaluated when the step starts") {
    auto c = load(R"(steps:
  - {id: plan, type: script, script: "return {n: 3}", output_variable: plan}
  - {id: ours, command: sleep, timeout: "${(input.per ?? 300) * plan.n}s"}
  - {id: js, command: sleep, timeout: "${input.cmds.length * 10}s"}
  - {id: fixed, command: sleep, timeout: 90s}
)");
    REQUIRE(c.ok());
    CHECK(step(c.workflow, "ours").timeout_template == "${{ (input.per ?? 300) * plan.n }}s");
    CHECK(step(c.workflow, "ours").timeout_ms == 0);
    CHECK(step(c.workflow, "js").timeout_template == "${{ __js.e0 }}s");
    CHECK(step(c.workflow, "js").js.at(0).field == "timeout");
    CHECK(step(c.workflow, "fixed").timeout_template.empty());
    CHECK(step(c.workflow, "fixed").timeout_ms == 90'000);
    auto ours = load("steps:\n  - {id: a, command: sleep, timeout: \"${{ inputs.n * 2 }}s\"}\n");
    REQUIRE(ours.ok());
    CHECK(ours.workflow.original_dialect.empty());
    CHECK(step(ours.workflow, "a").timeout_template == "${{ inputs.n * 2 }}s");
    CHECK(errors(load("steps:\n  - {id: a, command: sleep, timeout: \"${{ inputs.n * }}s\"}\n")).size() == 1);
    // Our own format does not read the original's ${…}: there it is still not a duration.
    CHECK(errors(load("format: orbitmesh\nsteps:\n  - {id: a, command: sleep, timeout: \"${n}s\"}\n")) ==
          std::vector<std::string>{"w.yaml:3: error: step \"a\": timeout is not a duration: \"${n}s\" (use 250ms, 30s, 5m, "
                                   "1h, 2d, 1m30s or HH:MM:SS)"});
}
