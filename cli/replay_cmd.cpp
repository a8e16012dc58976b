// `orbitmesh replay [ID]`: the event log, offline (--data-dir) or through a hub (--server).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/api_client.hpp"
#include "cli/command.hpp"
#include "cli/output.hpp"
#include "cli/replay_print.hpp"
#include "cli/store_flag.hpp"
#include "core/error.hpp"
#include "core/exit_code.hpp"
#include "engine/replay/chrome_trace.hpp"
#include "engine/replay/log_summary.hpp"
#include "engine/replay/timeline.hpp"
#include "engine/replay/verify.hpp"
#include "engine/replay/what_if.hpp"
#include "store/event_hash.hpp"
#include "store/event_scan.hpp"
#include "store/store_url.hpp"

namespace orbitmesh::cli {

namespace {

struct replay_flags {
    std::string id;
    std::string data_dir;
    std::string store;  // --store URL: sqlite://PATH or postgres://… (read offline)
    std::string until;
    bool verify = false;
    bool chain_head = false;
    std::string what_if;  // --what-if FILE
    std::vector<std::string> export_args;  // chrome-trace FILE
};

void check(const replay_flags& f) {
    if (!f.what_if.empty() && (f.verify || f.chain_head || !f.until.empty() || !f.export_args.empty()))
        throw core::error(core::error_kind::usage, "replay --what-if compares one run with a new definition; use it with RUN and --data-dir only");
    if (!f.what_if.empty() && (f.id.empty() || f.data_dir.empty()))
        throw core::error(core::error_kind::usage, "replay --what-if needs the recorded run and the store: replay RUN --what-if FILE --data-dir DIR");
    if (f.chain_head && (f.verify || !f.id.empty() || !f.until.empty() || !f.export_args.empty()))
        throw core::error(core::error_kind::usage, "replay --chain-head prints the head of the whole log; use it alone with --data-dir");
    if (f.chain_head && f.data_dir.empty())
        throw core::error(core::error_kind::usage, "replay --chain-head reads the store offline: add --data-dir DIR");
    if (f.verify && !f.id.empty())
        throw core::error(core::error_kind::usage, "replay --verify checks the whole store; drop the ID \"" + f.id + "\"");
    if (f.verify && !f.until.empty())
        throw core::error(core::error_kind::usage, "replay --verify compares with the tables as they are now; drop --until");
    if (f.verify && !f.export_args.empty()) throw core::error(core::error_kind::usage, "replay: --verify and --export do not mix");
    if (f.export_args.empty()) return;
    if (f.export_args.size() != 2 || f.export_args[0] != "chrome-trace")
        throw core::error(core::error_kind::usage, "replay --export takes a format and a file: --export chrome-trace FILE");
    if (f.id.empty()) throw core::error(core::error_kind::usage, "replay --export chrome-trace needs the ID of a run or a job");
}

std::filesystem::path store_file(const std::string& data_dir) {
    std::filesystem::path p(data_dir);
    std::error_code ec;
    if (std::filesystem::is_regular_file(p, ec)) return p;  // the .db itself is fine too
    return p / "orbitmesh.db";
}

void write_trace(const core::json& trace, const std::string& file, const std::string& id, const std::string& format) {
    const auto text = trace.dump();
    if (file == "-") {
        std::cout << text << std::endl;
        return;
    }
    std::ofstream out(file, std::ios::trunc);
    out << text << "\n";
    out.close();
    if (!out) throw core::error(core::error_kind::usage, "replay --export: cannot write " + file + " (check the path)");
    std::size_t spans = 0;
    for (const auto& e : trace["traceEvents"]) spans += e.value("ph", std::string{}) == "X" ? 1 : 0;
    if (format == "table") std::cout << "wrote a Chrome trace of " << id << " (" << spans << " spans) to " << file << std::endl;
    else print_json({{"file", file}, {"id", id}, {"spans", spans}}, format == "ndjson");
}

int finish_verify(const core::json& report, const std::string& format) {
    print_verify(report, format);
    if (report.value("ok", false)) return core::exit_ok;
    const std::string line = "orbitmesh: error: " + verify_line(report) + " (run with -o json for all of them)\n";
    std::fwrite(line.data(), 1, line.size(), stderr);
    return core::exit_failed;
}

// The newest log_chain checkpoint: an operator keeps it outside the data dir and compares later
// (docs/security.md): whoever rewrote history and recomputed every hash changes it.
int print_chain_head(const std::filesystem::path& file, const std::string& format) {
    store::event_scan log(file);
    const auto bounds = log.bounds();
    const auto chain = log.chain();
    if (chain.start_seq == 0)
        throw core::error(core::error_kind::invalid_input, "store " + file.string() +
                                                                " has no hash chain yet (schema before 3): start a hub of this version on it once");
    core::json out = {{"store", file.string()}, {"start_seq", chain.start_seq}, {"last_event_seq", bounds.last_seq}, {"seq", nullptr},
                      {"hash", nullptr}};
    if (!chain.checkpoints.empty()) {
        out["seq"] = chain.checkpoints.back().last_seq;
        out["hash"] = store::to_hex(chain.checkpoints.back().hash);
    }
    if (format != "table") {
        print_json(out, format == "ndjson");
    } else if (chain.checkpoints.empty()) {
        std::cout << "no checkpoint yet: no event was written since the chain began at seq " << chain.start_seq << std::endl;
    } else {
        std::cout << "seq " << out["seq"].dump() << " sha256 " << out["hash"].get<std::string>() << std::endl;
    }
    return core::exit_ok;
}

int print_what_if(const std::filesystem::path& file, const replay_flags& f, const std::string& format) {
    std::ifstream in(f.what_if);
    if (!in) throw core::error(core::error_kind::usage, "replay --what-if: cannot read " + f.what_if + " (check the path)");
    std::stringstream source;
    source << in.rdbuf();
    const auto r = engine::replay::what_if(file, f.id, source.str(), f.what_if);
    if (format != "table") {
        print_json(engine::replay::to_json(r), format == "ndjson");
    } else {
        std::cout << "what-if: run " << r.run_id << " replayed with " << r.workflow_file << " (nothing executed)\n";
        if (r.changes.empty()) std::cout << "no step would differ\n";
        else {
            std::vector<std::vector<std::string>> rows;
            for (const auto& c : r.changes) rows.push_back({c.step, c.change, c.before, c.after});
            print_table({"STEP", "CHANGE", "BEFORE", "AFTER"}, rows);
        }
        std::cout << "outcome: " << r.old_outcome << " -> " << r.new_outcome << (r.same_outcome() ? " (the same)" : " (different)") << "; "
                  << r.answered << " job(s) answered from the record, " << r.unrecorded << " without one" << std::endl;
    }
    return r.same_outcome() ? core::exit_ok : core::exit_failed;
}

int offline(const replay_flags& f, const global_options& g) {
    const auto choice = parse_store_flag(f.store);
    const std::filesystem::path local = !choice.sqlite_path.empty() ? choice.sqlite_path
                                        : f.data_dir.empty()          ? std::filesystem::path()
                                                                      : store_file(f.data_dir);
    // A PostgreSQL store is read through a consistent copy (the offline readers read SQLite in place).
    const store::sqlite_view view(local, choice.url);
    const auto& file = view.file();
    if (!f.what_if.empty()) return print_what_if(file, f, g.output);
    if (f.chain_head) return print_chain_head(file, g.output);
    if (f.verify) return finish_verify(engine::replay::to_json(engine::replay::verify_store(file)), g.output);
    std::int64_t until = 0;
    {
        store::event_scan log(file);
        until = engine::replay::resolve_until(log, f.until);
    }
    if (f.id.empty()) {
        print_log_summary(engine::replay::log_summary(file, until), g.output);
        return core::exit_ok;
    }
    const auto t = engine::replay::load_timeline(file, f.id, until);
    if (!f.export_args.empty()) {
        write_trace(engine::replay::chrome_trace(t), f.export_args[1], t.kind + " " + t.id, g.output);
        return core::exit_ok;
    }
    print_timeline(engine::replay::to_json(t), g.output);
    return core::exit_ok;
}

int through_hub(const replay_flags& f, const global_options& g) {
    api_client api(g);
    const auto timeout = std::chrono::minutes(5);  // a verify of millions of events takes seconds
    if (f.verify) return finish_verify(api.get("/api/v1/verify", timeout), g.output);
    const std::string query = f.until.empty() ? "" : "?until=" + url_encode(f.until);
    if (f.id.empty()) {
        print_log_summary(api.get("/api/v1/replay" + query, timeout), g.output);
        return core::exit_ok;
    }
    const auto base = "/api/v1/replay/" + url_encode(f.id);
    if (!f.export_args.empty()) {
        write_trace(api.get(base + "/chrome-trace" + query, timeout), f.export_args[1], f.id, g.output);
        return core::exit_ok;
    }
    print_timeline(api.get(base + query, timeout), g.output);
    return core::exit_ok;
}

}  // namespace

void add_replay_command(CLI::App& app, command_context& ctx) {
    auto flags = std::make_shared<replay_flags>();
    auto* sub = app.add_subcommand("replay", "Rebuild and show history from the event log: replay [ID]");
    sub->add_option("id", flags->id, "A job, run or agent (id or name); none: a summary of the log");
    sub->add_option("--data-dir", flags->data_dir, "Read the store in DIR offline (works while a hub runs on it)");
    sub->add_option("--store", flags->store, "Read this store offline: sqlite://PATH or postgres://USER@HOST:PORT/DB");
    sub->add_option("--until", flags->until, "Show the state as of an event seq or a UTC time (2026-12-03T14:35:09Z)");
    sub->add_flag("--verify", flags->verify, "Rebuild every projection from the events and compare (exit 1 on a difference)");
    sub->add_option("--what-if", flags->what_if,
                    "Drive a new definition FILE with the run's recorded results; print what differs (exit 1 if the outcome does)")
        ->type_name("FILE");
    sub->add_flag("--chain-head", flags->chain_head, "Print the head of the log's hash chain (seq and SHA-256) to keep elsewhere");
    sub->add_option("--export", flags->export_args, "Write a trace: --export chrome-trace FILE (- for stdout)")->expected(2);
    add_client_flags(*sub, ctx.global);
    sub->callback([&ctx, flags] {
        ctx.run = [&ctx, flags] {
            check_format(ctx.global.output);
            check(*flags);
            const bool local = !flags->data_dir.empty() || !flags->store.empty();
            return local ? offline(*flags, ctx.global) : through_hub(*flags, ctx.global);
        };
    });
}

}  // namespace orbitmesh::cli
