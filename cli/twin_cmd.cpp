// `orbitmesh twin get|set AGENT` and `orbitmesh agent drain|undrain AGENT` (SPEC §1, §7).
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/api_client.hpp"
#include "cli/command.hpp"
#include "cli/output.hpp"
#include "core/exit_code.hpp"
#include "core/twin.hpp"

namespace orbitmesh::cli {

namespace {

std::string twin_path(const std::string& agent) { return "/api/v1/agents/" + url_encode(agent) + "/twin"; }

std::string text_of(const core::json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

void print_half(const char* title, const core::json& half, std::int64_t version) {
    std::cout << title << " (version " << version << ")" << (half.empty() ? ": -" : ":") << "\n";
    for (const auto& [k, v] : half.items()) std::cout << "  " << k << " = " << text_of(v) << "\n";
}

int print_twin(const core::json& t, const global_options& g) {
    if (g.output != "table") {
        print_json(t, g.output == "ndjson");
        return core::exit_ok;
    }
    print_half("desired", t.value("desired", core::json::object()), t.value("desired_version", 0));
    print_half("reported", t.value("reported", core::json::object()), t.value("reported_version", 0));
    auto drift = t.value("drift", core::json::object());
    std::cout << "drift:" << (drift.empty() ? " none" : "") << "\n";
    for (const auto& [k, v] : drift.items())
        std::cout << "  " << k << ": desired " << text_of(v["desired"]) << ", reported " << text_of(v["reported"]) << "\n";
    std::cout.flush();
    return core::exit_ok;
}

int run_get(const std::string& agent, const global_options& g) {
    check_format(g.output);
    api_client api(g);
    return print_twin(api.get(twin_path(agent)), g);
}

int run_set(const std::string& agent, const std::vector<std::string>& words, const global_options& g) {
    check_format(g.output);
    auto patch = core::twin_patch_from_words(words);
    api_client api(g);
    return print_twin(api.patch(twin_path(agent), patch), g);
}

struct twin_flags {
    std::string agent;
    std::vector<std::string> words;
};

void add_drain(CLI::App& agent_cmd, command_context& ctx, const char* name, bool drain) {
    auto f = std::make_shared<twin_flags>();
    auto* sub = agent_cmd.add_subcommand(name, drain ? "Drain an agent: it finishes its running jobs and takes no new ones (twin set AGENT drain=true)"
                                                     : "Undrain an agent: it takes work again (twin set AGENT drain=false)");
    sub->add_option("agent", f->agent, "The agent's id or name")->required()->type_name("AGENT");
    add_client_flags(*sub, ctx.global);
    sub->callback([&ctx, f, drain] {
        ctx.run = [&ctx, f, drain] { return run_set(f->agent, {drain ? "drain=true" : "drain=false"}, ctx.global); };
    });
}

}  // namespace

void add_twin_commands(CLI::App& app, command_context& ctx) {
    auto* twin = app.add_subcommand("twin", "Read and set agents' twins: desired (operators) and reported (the agent)");
    twin->require_subcommand(1);
    auto f = std::make_shared<twin_flags>();
    auto* get = twin->add_subcommand("get", "Show both halves of an agent's twin and their drift");
    get->add_option("agent", f->agent, "The agent's id or name")->required()->type_name("AGENT");
    add_client_flags(*get, ctx.global);
    get->callback([&ctx, f] { ctx.run = [&ctx, f] { return run_get(f->agent, ctx.global); }; });
    auto* set = twin->add_subcommand("set", "Set desired keys: twin set AGENT KEY=VALUE… (VALUE as JSON or text; KEY= deletes)");
    set->add_option("agent", f->agent, "The agent's id or name")->required()->type_name("AGENT");
    set->add_option("pairs", f->words, "KEY=VALUE, e.g. drain=true concurrency=2 labels.zone=eu")->required()->type_name("KEY=VALUE");
    add_client_flags(*set, ctx.global);
    set->callback([&ctx, f] { ctx.run = [&ctx, f] { return run_set(f->agent, f->words, ctx.global); }; });

    CLI::App* agent_cmd = app.get_subcommand("agent");
    agent_cmd->require_subcommand(0, 1);
    add_drain(*agent_cmd, ctx, "drain", true);
    add_drain(*agent_cmd, ctx, "undrain", false);
}

}  // namespace orbitmesh::cli
