// `orbitmesh run FILE`: register a workflow, start a run, follow it to its end (SPEC §1, §4).
#include <CLI/CLI.hpp>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include "cli/api_client.hpp"
#include "cli/command.hpp"
#include "cli/flag_parsing.hpp"
#include "cli/local_mesh.hpp"
#include "cli/output.hpp"
#include "cli/run_follow.hpp"
#include "core/duration.hpp"
#include "core/error.hpp"
#include "core/exit_code.hpp"
#include "core/workflow_diagnostic.hpp"
#include "engine/workflow/loader.hpp"

namespace orbitmesh::cli {

namespace {

struct run_flags {
    std::string file, input_file, idempotency_key, timeout, data_dir = ".orbitmesh";
    std::vector<std::string> inputs;
    std::string handlers;                          // --local: the agent's --handlers DIR
    std::vector<std::string> tags, capabilities;   // --local: the agent's --tag / --capability
    bool detach = false, local = false;
};

// ---- Ctrl-C: stop following, leave the run alone (async-signal-safe: write + _exit only) ----

char interrupt_message[768] = "orbitmesh: interrupted\n";
std::atomic<std::size_t> interrupt_length{std::strlen(interrupt_message)};

extern "C" void on_interrupt(int) {
    if (isatty(STDERR_FILENO)) (void)!write(STDERR_FILENO, "\r\033[K", 4);
    (void)!write(STDERR_FILENO, interrupt_message, interrupt_length.load());
    _exit(core::exit_interrupted);
}

void set_interrupt_message(const std::string& text) {
    std::string line = text.substr(0, sizeof(interrupt_message) - 2) + "\n";
    interrupt_length.store(0);  // a Ctrl-C meanwhile prints nothing rather than half a line
    std::memcpy(interrupt_message, line.data(), line.size());
    interrupt_length.store(line.size());
}

// ---- inputs ----

/// `--input KEY=VALUE`: VALUE as JSON when it parses (numbers, true, null, [..], {..}), else text.
core::json input_value(const std::string& text) {
    try {
        return core::json::parse(text);
    } catch (const core::json::exception&) {
        return text;
    }
}

core::json yaml_to_json(const YAML::Node& n) {
    if (n.IsMap()) {
        core::json out = core::json::object();
        for (const auto& kv : n) out[kv.first.as<std::string>()] = yaml_to_json(kv.second);
        return out;
    }
    if (n.IsSequence()) {
        core::json out = core::json::array();
        for (const auto& item : n) out.push_back(yaml_to_json(item));
        return out;
    }
    if (!n.IsScalar()) return nullptr;
    if (n.Tag() == "!") return n.Scalar();  // quoted: always text
    const std::string& s = n.Scalar();
    if (s == "~" || s == "Null" || s == "NULL") return nullptr;
    if (s == "True" || s == "TRUE" || s == "yes") return true;
    if (s == "False" || s == "FALSE" || s == "no") return false;
    return input_value(s);
}

core::json read_input_file(const std::string& path) {
    std::ifstream in(path);
    if (!in)
        throw core::error(core::error_kind::usage, "cannot read --input-file " + path + ": " + std::strerror(errno));
    std::stringstream text;
    text << in.rdbuf();
    core::json j;
    try {
        j = yaml_to_json(YAML::Load(text.str()));  // JSON is YAML too
    } catch (const YAML::Exception& e) {
        throw core::error(core::error_kind::invalid_input, "--input-file " + path + ":" + std::to_string(e.mark.line + 1) +
                                                               ": not valid JSON or YAML: " + e.msg);
    }
    if (!j.is_object())
        throw core::error(core::error_kind::invalid_input,
                          "--input-file " + path + " must hold a map of input names to values (e.g. {\"env\": \"staging\"})");
    return j;
}

/// Inputs the workflow declares as text keep the words as typed (`--input version=1.10` stays
/// "1.10", not 1.1); the others are read as JSON when they parse.
bool declared_text(const core::workflow& wf, const std::string& key) {
    for (const auto& p : wf.inputs)
        if (p.name == key) return p.type == "string" || p.type == "datetime";
    return false;
}

core::json collect_inputs(const run_flags& f, const core::workflow& wf) {
    core::json inputs = f.input_file.empty() ? core::json::object() : read_input_file(f.input_file);
    for (auto& [key, value] : inputs.items())
        if (declared_text(wf, key) && (value.is_number() || value.is_boolean())) value = value.dump();
    for (const auto& word : f.inputs) {
        auto eq = word.find('=');
        if (eq == std::string::npos || eq == 0)
            throw core::error(core::error_kind::usage, "--input \"" + word + "\" is not KEY=VALUE (e.g. --input env=staging)");
        std::string key = word.substr(0, eq), text = word.substr(eq + 1);
        inputs[key] = declared_text(wf, key) ? core::json(text) : input_value(text);
    }
    return inputs;
}

// ---- the definition ----

struct definition {
    std::string source;
    core::workflow workflow;
};

/// Validates locally first so a bad file names its line exactly like `workflow validate` does.
definition read_definition(const std::string& file) {
    engine::workflow_check c = engine::check_workflow_file(file);
    for (const auto& d : c.diagnostics) {
        if (d.level != core::severity::error) continue;
        std::string where = d.file.empty() ? file : d.file;
        if (d.line > 0) where += ":" + std::to_string(d.line);
        throw core::error(core::error_kind::invalid_input,
                          where + ": " + d.message + (d.hint.empty() ? "" : " (" + d.hint + ")") +
                              (c.errors() > 1 ? " [and " + std::to_string(c.errors() - 1) + " more: orbitmesh workflow validate " + file + "]" : ""));
    }
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    return {text.str(), std::move(c.workflow)};
}

core::json register_definition(api_client& api, const std::string& file, const std::string& source) {
    core::json body = {{"source", source}, {"file", std::filesystem::path(file).filename().string()}};
    return api.post("/api/v1/workflows", body);
}

core::json start_run(api_client& api, const std::string& workflow_id, const run_flags& f, const core::json& inputs) {
    core::json body = {{"workflow_id", workflow_id}, {"inputs", inputs}};
    if (!f.idempotency_key.empty()) body["idempotency_key"] = f.idempotency_key;
    if (!f.timeout.empty()) body["timeout"] = f.timeout;
    return api.post("/api/v1/runs", body);
}

void check_flags(const run_flags& f, const global_options& g) {
    check_format(g.output);
    if (!f.timeout.empty() && core::parse_duration(f.timeout).value_or(0) <= 0)
        throw core::error(core::error_kind::usage,
                          "--timeout \"" + f.timeout + "\" is not a positive duration (use e.g. 30s, 10m, 1h)");
    if (f.local && f.detach)
        throw core::error(core::error_kind::usage, "--local and --detach do not mix: the private hub ends with the command");
    if (!f.local && (!f.handlers.empty() || !f.tags.empty() || !f.capabilities.empty()))
        throw core::error(core::error_kind::usage,
                          "--handlers, --tag and --capability describe the private agent of --local; without --local "
                          "start agents with them instead (orbitmesh agent --handlers DIR --tag K=V --capability C)");
}

follow_options follow_flags(const run_flags& f, const global_options& g) {
    follow_options o;
    o.format = g.output;
    o.quiet = g.quiet;
    o.verbose = g.verbose;
    if (!f.timeout.empty()) {
        // The hub enforces the timeout; the client waits a little longer to hear it say so.
        auto ms = *core::parse_duration(f.timeout) + 5000;
        o.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    }
    return o;
}

int start_and_follow(api_client& api, const run_flags& f, const global_options& g, const std::string& after_ctrl_c) {
    const definition def = read_definition(f.file);
    const core::json inputs = collect_inputs(f, def.workflow);
    const core::json wf = register_definition(api, f.file, def.source);
    if (g.verbose)
        std::cerr << "orbitmesh: workflow " << wf.value("id", std::string{}) << " version "
                  << wf.value("version", std::string{}) << " registered" << std::endl;
    const core::json run = start_run(api, wf.value("id", std::string{}), f, inputs);
    const std::string run_id = run.value("id", std::string{});
    if (f.detach) {
        if (g.output == "table") std::cout << run_id << std::endl;
        else print_json(run, g.output == "ndjson");
        return core::exit_ok;
    }
    std::string msg = after_ctrl_c;
    for (auto at = msg.find("RUN_ID"); at != std::string::npos; at = msg.find("RUN_ID")) msg.replace(at, 6, run_id);
    set_interrupt_message(msg);
    follow_options o = follow_flags(f, g);
    o.total_steps = def.workflow.steps.size();
    return follow_run(api, run_id, o);
}

int run_remote(const run_flags& f, const global_options& g) {
    api_client api(g);
    return start_and_follow(api, f, g,
                            "orbitmesh: run RUN_ID continues on the hub; cancel it with orbitmesh workflow cancel RUN_ID");
}

int run_local(const run_flags& f, const global_options& g) {
    (void)read_definition(f.file);  // a bad file fails before anything starts
    local_mesh_options lo;
    lo.data_dir = f.data_dir;
    lo.handlers_dir = f.handlers;
    lo.tags = parse_pairs(f.tags, "--tag");
    lo.capabilities = f.capabilities;
    lo.quiet = g.quiet;
    local_mesh mesh(lo);
    mesh.wait_for_agent();
    global_options local = g;
    local.server = mesh.server_url();
    local.token.clear();
    local.token_file.clear();
    api_client api(local);
    int code = start_and_follow(api, f, local,
                                "orbitmesh: interrupted; run RUN_ID is kept in " + f.data_dir +
                                    " and resumes when a hub starts there (orbitmesh serve --data-dir " + f.data_dir + ")");
    mesh.stop();
    return code;
}

int run_command(const run_flags& f, const global_options& g) {
    check_flags(f, g);
    std::signal(SIGINT, on_interrupt);
    return f.local ? run_local(f, g) : run_remote(f, g);
}

}  // namespace

void add_run_command(CLI::App& app, command_context& ctx) {
    auto f = std::make_shared<run_flags>();
    auto* sub = app.add_subcommand("run", "Start a workflow and follow it to its end: run [flags] FILE\n"
                                          "Exit 0 succeeded, 1 failed, 2 invalid workflow or inputs, 3 hub unreachable, "
                                          "4 timed out, 5 cancelled, 130 Ctrl-C (the run goes on)");
    sub->add_option("file", f->file, "The workflow file (YAML or JSON)")->required()->type_name("FILE");
    sub->add_option("--input", f->inputs, "A run input KEY=VALUE (repeat); VALUE is read as JSON when it parses, else text")
        ->type_name("KEY=VALUE");
    sub->add_option("--input-file", f->input_file, "Inputs from a JSON or YAML map; --input overrides its keys")->type_name("FILE");
    sub->add_option("--idempotency-key", f->idempotency_key, "The same key returns the existing run instead of starting another")
        ->type_name("K");
    sub->add_option("--timeout", f->timeout, "Time limit for the run (passed to the hub; the client also stops waiting)")
        ->type_name("DURATION");
    sub->add_flag("--detach", f->detach, "Print the run id and exit 0 once the run has started");
    sub->add_flag("--local", f->local, "Run a private in-process hub and agent (no server); the event log stays in --data-dir");
    sub->add_option("--data-dir", f->data_dir, "With --local: where the event log is kept (default .orbitmesh)")->type_name("DIR");
    sub->add_option("--handlers", f->handlers, "With --local: the agent's plugin handlers directory")->type_name("DIR");
    sub->add_option("--tag", f->tags, "With --local: a KEY=VALUE tag of the agent (repeat)")->type_name("KEY=VALUE");
    sub->add_option("--capability", f->capabilities, "With --local: a capability of the agent (repeat)")->type_name("NAME");
    add_client_flags(*sub, ctx.global);
    sub->callback([&ctx, f] { ctx.run = [&ctx, f] { return run_command(*f, ctx.global); }; });
}

}  // namespace orbitmesh::cli
