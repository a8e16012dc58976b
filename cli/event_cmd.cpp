// `orbitmesh event post TYPE [--data JSON] [--correlation-key K]` (SPEC §1, §4): wakes the runs
// waiting for it (wait_for_event steps, event triggers).
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/api_client.hpp"
#include "cli/command.hpp"
#include "cli/output.hpp"
#include "core/error.hpp"
#include "core/exit_code.hpp"

namespace orbitmesh::cli {

namespace {

struct post_flags {
    std::string type, data, correlation_key;
};

int run_post(const post_flags& f, const global_options& g) {
    check_format(g.output);
    core::json data = nullptr;
    if (!f.data.empty()) {
        try {
            data = core::json::parse(f.data);
        } catch (const core::json::exception&) {
            throw core::error(core::error_kind::usage, "--data is not valid JSON: " + f.data +
                                                           " (quote it for the shell, e.g. --data '{\"tag\": \"v1\"}')");
        }
    }
    core::json body = {{"type", f.type}, {"data", data}};
    if (!f.correlation_key.empty()) body["correlation_key"] = f.correlation_key;
    api_client api(g);
    auto res = api.post("/api/v1/events", body);
    if (g.output == "table") std::cout << res.value("matched", 0) << std::endl;
    else print_json(res, g.output == "ndjson");
    return core::exit_ok;
}

}  // namespace

void add_event_commands(CLI::App& app, command_context& ctx) {
    auto* event = app.add_subcommand("event", "Post custom events for wait_for_event steps and event triggers");
    event->require_subcommand(1);
    auto f = std::make_shared<post_flags>();
    auto* post = event->add_subcommand("post", "Post an event: event post TYPE [--data JSON] [--correlation-key K]; "
                                               "prints how many runs it woke");
    post->add_option("type", f->type, "The event type, e.g. smoke.finished")->required()->type_name("TYPE");
    post->add_option("--data", f->data, "The event's data as JSON")->type_name("JSON");
    post->add_option("--correlation-key", f->correlation_key, "Only steps waiting with this key match")->type_name("K");
    add_client_flags(*post, ctx.global);
    post->callback([&ctx, f] { ctx.run = [&ctx, f] { return run_post(*f, ctx.global); }; });
}

}  // namespace orbitmesh::cli
