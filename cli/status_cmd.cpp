// `orbitmesh status [agents|jobs|runs|ID]`.
#include <CLI/CLI.hpp>
#include <chrono>
#include <iostream>
#include <thread>
#include <unistd.h>

#include "cli/api_client.hpp"
#include "cli/command.hpp"
#include "cli/job_follow.hpp"
#include "cli/job_payload.hpp"
#include "cli/output.hpp"
#include "cli/run_follow.hpp"
#include "core/error.hpp"

namespace orbitmesh::cli {

namespace {

void print_agents(const core::json& agents, const std::string& format) {
    if (format == "json") return print_json({{"agents", agents}});
    if (format == "ndjson") {
        for (const auto& a : agents) print_json(a, true);
        return;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& a : agents) {
        std::string tags;
        for (const auto& [k, v] : a["tags"].items())
            if (k.rfind("reported.", 0) != 0)  // twin facts: `twin get` shows them
                tags += (tags.empty() ? "" : ",") + k + "=" + v.get<std::string>();
        std::string caps;
        for (const auto& c : a["capabilities"]) caps += (caps.empty() ? "" : ",") + c.get<std::string>();
        // The twin (SPEC §7): draining shows in STATE, desired keys the agent has not applied in DRIFT.
        std::string state = cell(a, "state") + (a.value("draining", false) ? " (draining)" : "");
        std::string drift;
        if (a.contains("drift") && a["drift"].is_object())
            for (const auto& [k, v] : a["drift"].items()) drift += (drift.empty() ? "" : ",") + k;
        rows.push_back({cell(a, "name"), cell(a, "id"), state, drift.empty() ? "-" : drift,
                        std::to_string(a.value("running", 0)) + "/" + std::to_string(a.value("concurrency", 0)),
                        cell(a, "circuit"), tags.empty() ? "-" : tags, caps.empty() ? "-" : caps});
    }
    print_table({"NAME", "ID", "STATE", "DRIFT", "RUNNING", "CIRCUIT", "TAGS", "CAPABILITIES"}, rows);
}

void print_summary(api_client& api, const std::string& format) {
    // The hub keeps these counts as it goes: one small request, however many jobs it has run.
    auto stats = api.get("/api/v1/stats");
    std::map<std::string, std::int64_t> by_state;
    for (const auto& [state, n] : stats["jobs"].items())
        if (state != "total" && n.get<std::int64_t>() > 0) by_state[state] = n.get<std::int64_t>();
    std::map<std::string, std::int64_t> runs;
    if (auto it = stats.find("runs"); it != stats.end() && it->is_object())
        for (const auto& [state, n] : it->items())
            if (n.is_number() && n.get<std::int64_t>() > 0) runs[state] = n.get<std::int64_t>();
    const auto total = stats["agents"].value("total", std::int64_t{0});
    const auto connected = stats["agents"].value("connected", std::int64_t{0});
    if (format != "table") {
        return print_json({{"agents", {{"total", total}, {"connected", connected}}}, {"jobs", by_state}, {"runs", runs}},
                          format == "ndjson");
    }
    std::cout << "hub      " << api.url().host_port() << "\n";
    std::cout << "agents   " << connected << " connected, " << total - connected << " disconnected\n";
    std::cout << "jobs    ";
    if (by_state.empty()) std::cout << " none";
    for (const auto& [s, n] : by_state) std::cout << " " << s << "=" << n;
    std::cout << "\nruns    ";
    if (runs.empty()) std::cout << " none";
    for (const auto& [s, n] : runs) std::cout << " " << s << "=" << n;
    std::cout << std::endl;
}

/// `status ID`: a job first, then an agent, then a run.
void show_id(api_client& api, const std::string& id, const std::string& format) {
    auto missing = [](const core::error& e) { return e.kind() == core::error_kind::not_found; };
    try {
        return print_job(api.get("/api/v1/jobs/" + url_encode(id)), format);
    } catch (const core::error& e) {
        if (!missing(e)) throw;
    }
    try {
        return print_agents(core::json::array({api.get("/api/v1/agents/" + url_encode(id))}), format);
    } catch (const core::error& e) {
        if (!missing(e)) throw;
    }
    try {
        auto run = api.get("/api/v1/runs/" + url_encode(id));
        return format == "table" ? print_run_tree(run) : print_json(run, format == "ndjson");
    } catch (const core::error& e) {
        if (!missing(e)) throw;
    }
    throw core::error(core::error_kind::not_found,
                      "no job, agent or run \"" + id + "\" (try `orbitmesh status jobs` or `orbitmesh status runs`)");
}

int show(const std::string& what, const global_options& g) {
    api_client api(g);
    if (what.empty()) print_summary(api, g.output);
    else if (what == "agents") print_agents(api.get("/api/v1/agents")["agents"], g.output);
    else if (what == "jobs") print_job_list(api.get("/api/v1/jobs?limit=1000")["jobs"], g.output);
    else if (what == "runs") print_run_list(api.get("/api/v1/runs?limit=1000").value("runs", core::json::array()), g.output);
    else show_id(api, what, g.output);
    return 0;
}

}  // namespace

void add_status_command(CLI::App& app, command_context& ctx) {
    auto what = std::make_shared<std::string>();
    auto watch = std::make_shared<bool>(false);
    auto* sub = app.add_subcommand("status", "Show agents, jobs and runs: status [agents|jobs|runs|ID]");
    sub->add_option("what", *what, "agents, jobs, runs, or a job, agent or run id (default: a summary)");
    sub->add_flag("-w,--watch", *watch, "Refresh every 2 seconds until Ctrl-C");
    add_client_flags(*sub, ctx.global);
    sub->callback([&ctx, what, watch] {
        ctx.run = [&ctx, what, watch] {
            check_format(ctx.global.output);
            if (!*watch) return show(*what, ctx.global);
            // Clear-screen codes only for a terminal: piped into a file or `less`, each refresh
            // follows the last after a blank line instead of filling it with escape sequences.
            const bool tty = isatty(STDOUT_FILENO);
            for (int i = 0; i < 1'000'000; ++i) {  // bounded; Ctrl-C ends it first in practice
                if (tty) std::cout << "\033[H\033[2J" << std::flush;
                else if (i > 0) std::cout << "\n" << std::flush;
                show(*what, ctx.global);
                std::cout << std::flush;
                std::this_thread::sleep_for(std::chrono::seconds(2));
            }
            return 0;
        };
    });
}

}  // namespace orbitmesh::cli
