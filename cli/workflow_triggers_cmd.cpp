// `orbitmesh workflow triggers [WORKFLOW]` (SPEC §4, issue 10): each trigger of the registered
// workflows with its next fire time and last outcome.
#include <CLI/CLI.hpp>

#include "cli/api_client.hpp"
#include "cli/command.hpp"
#include "cli/output.hpp"
#include "core/exit_code.hpp"

namespace orbitmesh::cli {

namespace {

std::string what_fires_it(const core::json& t) {
    for (const char* key : {"schedule", "event_type", "path"})
        if (t.contains(key)) return t[key].get<std::string>();
    return "-";
}

int run_triggers(const std::string& workflow, const global_options& g) {
    check_format(g.output);
    api_client api(g);
    auto list = api.get("/api/v1/triggers" + (workflow.empty() ? std::string{} : "?workflow=" + workflow))
                    .value("triggers", core::json::array());
    if (g.output != "table") {
        if (g.output == "json") print_json({{"triggers", list}});
        else for (const auto& t : list) print_json(t, true);
        return core::exit_ok;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& t : list)
        rows.push_back({cell(t, "workflow"), cell(t, "trigger"), cell(t, "type") + (t.value("enabled", true) ? "" : " (off)"),
                        what_fires_it(t), cell(t, "next_fire"), std::to_string(t.value("fires", 0)), cell(t, "last_outcome"),
                        cell(t, "last_run")});
    print_table({"WORKFLOW", "TRIGGER", "TYPE", "ON", "NEXT FIRE", "FIRES", "LAST OUTCOME", "LAST RUN"}, rows);
    return core::exit_ok;
}

}  // namespace

void add_workflow_triggers_command(CLI::App& app, command_context& ctx) {
    CLI::App* wf = app.get_subcommand("workflow");
    auto workflow = std::make_shared<std::string>();
    auto* sub = wf->add_subcommand("triggers", "Show each trigger with its next fire time and last outcome");
    sub->add_option("workflow", *workflow, "Only this workflow's triggers")->type_name("WORKFLOW");
    add_client_flags(*sub, ctx.global);
    sub->callback([&ctx, workflow] { ctx.run = [&ctx, workflow] { return run_triggers(*workflow, ctx.global); }; });
}

}  // namespace orbitmesh::cli
