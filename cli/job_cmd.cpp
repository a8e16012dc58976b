// `orbitmesh job submit|get|cancel|logs|list|retry`.
#include <CLI/CLI.hpp>

#include "cli/api_client.hpp"
#include "cli/command.hpp"
#include "cli/flag_parsing.hpp"
#include "cli/job_follow.hpp"
#include "cli/job_payload.hpp"
#include "cli/output.hpp"
#include "core/error.hpp"
#include "core/job.hpp"

namespace orbitmesh::cli {

namespace {

struct submit_flags {
    std::vector<std::string> words, capabilities, tags, secrets, limits, where;
    std::string agent, timeout, pending_timeout, idempotency_key, mode, on_agent_lost, payload;
    int priority = 0, retries = 0;
    bool wait = false;
};

/// `--limit memory_mb=64 --limit network=true` as the spec's `limits` map; the spec reader checks
/// the keys and values.
core::json limits_from_words(const std::vector<std::string>& words) {
    core::json out = core::json::object();
    for (const auto& [key, value] : parse_pairs(words, "--limit")) {
        if (value == "true" || value == "false") {
            out[key] = value == "true";
            continue;
        }
        auto n = core::json::parse(value, nullptr, false);
        out[key] = n.is_number_integer() ? n : core::json(value);
    }
    return out;
}

core::json build_spec(const submit_flags& f) {
    if (f.words.empty())
        throw core::error(core::error_kind::usage, "job submit needs a command: orbitmesh job submit [flags] -- COMMAND ARGS...");
    core::json spec = {{"command", f.words.front()}};
    std::vector<std::string> args(f.words.begin() + 1, f.words.end());
    if (!f.payload.empty()) {
        if (!args.empty()) throw core::error(core::error_kind::usage, "give either --payload or ARGS after the command, not both");
        try {
            spec["payload"] = core::json::parse(f.payload);
        } catch (const core::json::exception& e) {
            throw core::error(core::error_kind::usage, std::string("--payload is not valid JSON: ") + e.what());
        }
    } else {
        spec["payload"] = payload_from_words(f.words.front(), args);
    }
    spec["priority"] = f.priority;
    if (f.retries < 0) throw core::error(core::error_kind::usage, "--retries must be 0 or more");
    spec["retries"] = f.retries;
    if (!f.timeout.empty()) spec["timeout_ms"] = positive_duration(f.timeout, "--timeout");
    if (!f.pending_timeout.empty()) spec["pending_timeout_ms"] = positive_duration(f.pending_timeout, "--pending-timeout");
    if (!f.idempotency_key.empty()) spec["idempotency_key"] = f.idempotency_key;
    if (!f.mode.empty()) spec["mode"] = f.mode;
    if (!f.on_agent_lost.empty()) spec["on_agent_lost"] = f.on_agent_lost;
    if (!f.limits.empty()) spec["limits"] = limits_from_words(f.limits);
    auto tags = parse_pairs(f.tags, "--tag");
    // --where reported.KEY=VALUE matches an agent's twin facts (the hub keeps them as reported.* tags).
    for (auto& [k, v] : parse_pairs(f.where, "--where")) {
        if (k.rfind("reported.", 0) != 0 || k.size() == 9)
            throw core::error(core::error_kind::usage, "--where " + k + "=" + v + ": use reported.KEY=VALUE (e.g. reported.arch=arm64)");
        tags[k] = v;
    }
    spec["target"] = {{"agent", f.agent}, {"capabilities", f.capabilities}, {"tags", tags}};
    if (!f.secrets.empty()) spec["secrets"] = f.secrets;
    (void)core::job_spec_from_request(spec);  // bad modes, policies or names fail here with exit 2, hub or not
    return spec;
}

int run_submit(const submit_flags& f, const global_options& g) {
    check_format(g.output);
    auto spec = build_spec(f);
    api_client api(g);
    auto job = api.post("/api/v1/jobs", spec);
    if (!f.wait) {
        if (g.output == "table") std::cout << job.value("id", std::string{}) << std::endl;
        else print_json(job, g.output == "ndjson");
        return 0;
    }
    auto final_job = wait_for_job(api, job.value("id", std::string{}), g.quiet);
    if (g.output == "table") {
        auto text = output_text(final_job["output"]);
        if (!text.empty()) std::cout << text << (text.back() == '\n' ? "" : "\n") << std::flush;
        auto state = final_job.value("state", std::string{});
        if (state != "succeeded" && !g.quiet)
            std::cerr << "orbitmesh: job " << final_job.value("id", std::string{}) << " " << state
                      << (final_job.value("error", std::string{}).empty() ? "" : ": " + final_job["error"].get<std::string>())
                      << (final_job["exit_code"].is_number() ? " (exit code " + final_job["exit_code"].dump() + ")" : "")
                      << std::endl;
    } else {
        print_json(final_job, g.output == "ndjson");
    }
    return exit_code_for_state(final_job.value("state", std::string{}));
}

void add_submit(CLI::App& job, command_context& ctx) {
    auto f = std::make_shared<submit_flags>();
    auto* sub = job.add_subcommand("submit", "Submit a job: orbitmesh job submit [flags] -- COMMAND ARGS...");
    sub->add_option("words", f->words, "COMMAND (a handler: shell, exec, echo, sleep, ...) and its ARGS");
    sub->add_option("--capability", f->capabilities, "Only agents with this capability (repeat)");
    sub->add_option("--tag", f->tags, "Only agents with this KEY=VALUE tag (repeat)");
    sub->add_option("--where", f->where, "Only agents whose twin reports this: reported.KEY=VALUE, e.g. reported.arch=arm64 (repeat)");
    sub->add_option("--agent", f->agent, "Only this agent (id or name)");
    sub->add_option("--priority", f->priority, "Higher runs first")->capture_default_str();
    sub->add_option("--timeout", f->timeout, "Per-attempt time limit, e.g. 30s");
    sub->add_option("--pending-timeout", f->pending_timeout, "Fail the job, with the reason, when no agent took it within D");
    sub->add_option("--retries", f->retries, "Retries after a failed attempt")->capture_default_str();
    sub->add_option("--idempotency-key", f->idempotency_key, "The same key within its window returns the same job");
    sub->add_option("--mode", f->mode, "request_response, fire_and_forget, streaming or long_running");
    sub->add_option("--on-agent-lost", f->on_agent_lost, "reassign (default), wait or fail");
    sub->add_option("--payload", f->payload, "The payload as JSON (instead of ARGS)");
    sub->add_option("--secret", f->secrets, "A hub secret the job gets as this environment variable, masked as *** (repeat)")
        ->type_name("NAME");
    sub->add_option("--limit", f->limits, "A resource limit KEY=N: cpu_seconds, memory_mb, output_bytes, files, pids; network=true asks for the network in a sandbox (repeat)")
        ->type_name("KEY=N");
    sub->add_flag("--wait", f->wait, "Follow the job to its end; exit 0/1/4/5 by its final state");
    add_client_flags(*sub, ctx.global);
    sub->callback([&ctx, f] { ctx.run = [f, &ctx] { return run_submit(*f, ctx.global); }; });
}

void add_simple(CLI::App& job, command_context& ctx) {
    auto id = std::make_shared<std::string>();
    auto* get = job.add_subcommand("get", "Show one job");
    get->add_option("id", *id, "Job id")->required();
    add_client_flags(*get, ctx.global);
    get->callback([&ctx, id] {
        ctx.run = [&ctx, id] {
            check_format(ctx.global.output);
            api_client api(ctx.global);
            print_job(api.get("/api/v1/jobs/" + url_encode(*id)), ctx.global.output);
            return 0;
        };
    });

    auto reason = std::make_shared<std::string>();
    auto* cancel = job.add_subcommand("cancel", "Cancel a job (SIGTERM to its processes, SIGKILL after the grace period)");
    cancel->add_option("id", *id, "Job id")->required();
    cancel->add_option("--reason", *reason, "Why (recorded with the job)");
    add_client_flags(*cancel, ctx.global);
    cancel->callback([&ctx, id, reason] {
        ctx.run = [&ctx, id, reason] {
            check_format(ctx.global.output);
            api_client api(ctx.global);
            auto j = api.post("/api/v1/jobs/" + url_encode(*id) + "/cancel", {{"reason", *reason}});
            if (ctx.global.output == "table") std::cout << j.value("id", std::string{}) << " " << j.value("state", std::string{}) << (j.value("cancel_requested", false) && j.value("state", std::string{}) != "cancelled" ? " (cancelling)" : "") << std::endl;
            else print_json(j, ctx.global.output == "ndjson");
            return 0;
        };
    });

    auto* retry = job.add_subcommand("retry", "Queue a dead, failed, timed-out or cancelled job again");
    retry->add_option("id", *id, "Job id")->required();
    add_client_flags(*retry, ctx.global);
    retry->callback([&ctx, id] {
        ctx.run = [&ctx, id] {
            check_format(ctx.global.output);
            api_client api(ctx.global);
            auto j = api.post("/api/v1/jobs/" + url_encode(*id) + "/retry", core::json::object());
            if (ctx.global.output == "table") std::cout << j.value("id", std::string{}) << " " << j.value("state", std::string{}) << std::endl;
            else print_json(j, ctx.global.output == "ndjson");
            return 0;
        };
    });

    auto follow = std::make_shared<bool>(false);
    auto* logs = job.add_subcommand("logs", "Print a job's output; -f follows it live");
    logs->add_option("id", *id, "Job id")->required();
    logs->add_flag("-f,--follow", *follow, "Keep printing until the job ends");
    add_client_flags(*logs, ctx.global);
    logs->callback([&ctx, id, follow] {
        ctx.run = [&ctx, id, follow] {
            check_format(ctx.global.output);
            api_client api(ctx.global);
            print_logs(api, *id, *follow, ctx.global.output != "table");
            return 0;
        };
    });
}

void add_list(CLI::App& job, command_context& ctx) {
    auto limit = std::make_shared<std::size_t>(1000);
    auto state = std::make_shared<std::string>();
    auto* list = job.add_subcommand("list", "List jobs, newest first");
    list->add_option("--limit", *limit, "At most this many")->capture_default_str();
    list->add_option("--state", *state, "Only jobs in this state");
    add_client_flags(*list, ctx.global);
    list->callback([&ctx, limit, state] {
        ctx.run = [&ctx, limit, state] {
            check_format(ctx.global.output);
            api_client api(ctx.global);
            auto page = api.get("/api/v1/jobs?limit=" + std::to_string(*limit) + (state->empty() ? "" : "&state=" + url_encode(*state)));
            print_job_list(page["jobs"], ctx.global.output);
            return 0;
        };
    });
}

}  // namespace

void print_job_list(const core::json& jobs, const std::string& format) {
    if (format == "json") return print_json({{"jobs", jobs}});
    if (format == "ndjson") {
        for (const auto& j : jobs) print_json(j, true);
        return;
    }
    std::vector<std::vector<std::string>> rows;
    bool why = false;  // a WHY PENDING column only when some job waits for an agent
    for (const auto& j : jobs) why = why || !j.value("pending_reason", std::string{}).empty();
    for (const auto& j : jobs) {
        rows.push_back({cell(j, "id"), cell(j, "state"), cell(j, "command"), cell(j, "attempt"),
                        j["agent"].is_object() ? j["agent"].value("name", std::string{"-"}) : "-", cell(j, "exit_code"),
                        cell(j, "created_at")});
        if (why) rows.back().push_back(j.value("pending_reason", std::string{}).empty() ? "-" : j["pending_reason"].get<std::string>());
    }
    std::vector<std::string> head{"ID", "STATE", "COMMAND", "ATTEMPT", "AGENT", "EXIT", "CREATED"};
    if (why) head.push_back("WHY PENDING");
    print_table(head, rows);
}

void add_job_commands(CLI::App& app, command_context& ctx) {
    auto* job = app.add_subcommand("job", "Submit and manage one-off jobs");
    job->require_subcommand(1);
    add_submit(*job, ctx);
    add_simple(*job, ctx);
    add_list(*job, ctx);
}

}  // namespace orbitmesh::cli
