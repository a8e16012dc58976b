#include "cli/replay_print.hpp"

#include <cstdio>
#include <iostream>

#include "cli/job_follow.hpp"
#include "cli/output.hpp"
#include "cli/run_follow.hpp"

namespace orbitmesh::cli {

namespace {

std::string count(const core::json& j, const char* key) {
    return j.contains(key) && j[key].is_number() ? std::to_string(j[key].get<std::int64_t>()) : "0";
}

std::string states_line(const core::json& by_state) {
    std::string out;
    for (const auto& [state, n] : by_state.items()) out += (out.empty() ? "" : " ") + state + "=" + n.dump();
    return out.empty() ? "none" : out;
}

}  // namespace

void print_log_summary(const core::json& s, const std::string& format) {
    if (format != "table") return print_json(s, format == "ndjson");
    std::cout << "store    " << s.value("store", std::string{}) << "\n";
    std::cout << "events   " << count(s, "events") << " (seq " << count(s, "first_seq") << ".." << count(s, "last_seq") << ")";
    if (!s["until"].is_null()) std::cout << " up to seq " << s["until"].dump();
    std::cout << "\n";
    std::cout << "time     " << cell(s, "first_time") << " .. " << cell(s, "last_time") << "\n";
    std::cout << "jobs     " << states_line(s["jobs"]) << "\n";
    std::cout << "runs     " << states_line(s["runs"]) << "\n";
    std::cout << "agents   " << states_line(s["agents"]) << "\n";
    if (s.value("refused_events", 0) > 0)
        std::cout << "refused  " << count(s, "refused_events") << " events the state machine refuses (replay --verify lists them)\n";
    std::string snaps;
    for (const auto& m : s["snapshots"]) snaps += (snaps.empty() ? "" : ", ") + std::string("seq ") + m["seq"].dump() + " at " + cell(m, "time");
    std::cout << "snapshot " << (snaps.empty() ? "none" : snaps) << "\n\n";
    std::vector<std::vector<std::string>> rows;
    for (const auto& [kind, k] : s["streams"].items())
        rows.push_back({kind, count(k, "streams"), count(k, "events"), cell(k, "first"), cell(k, "last")});
    print_table({"KIND", "STREAMS", "EVENTS", "FIRST", "LAST"}, rows);
}

void print_timeline(const core::json& t, const std::string& format) {
    if (format == "json") return print_json(t);
    if (format == "ndjson") {
        for (const auto& e : t["events"]) print_json(e, true);
        return print_json({{"type", "state"}, {"kind", t["kind"]}, {"id", t["id"]}, {"until", t["until"]}, {"state", t["state"]}}, true);
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& e : t["events"]) {
        // "job …3b63d677": ids begin with their time, so the random tail tells them apart.
        auto stream = e.value("stream", std::string{});
        const auto dash = stream.find('-');
        if (dash != std::string::npos && stream.size() > dash + 9) stream = stream.substr(0, dash) + " ~" + stream.substr(stream.size() - 8);
        rows.push_back({e["seq"].dump(), cell(e, "time"), stream, cell(e, "type"), cell(e, "summary")});
    }
    print_table({"SEQ", "TIME", "STREAM", "EVENT", "DETAIL"}, rows);
    std::cout << "\n" << t.value("kind", std::string{}) << " " << t.value("id", std::string{}) << " as of seq " << t["until"].dump()
              << ":\n";
    const auto kind = t.value("kind", std::string{});
    if (kind == "run") {
        print_run_tree(t["state"]);
    } else if (kind == "job") {
        print_job(t["state"], "table");
    } else if (kind == "workflow") {
        std::cout << "  registered versions: " << t["state"]["versions"].dump() << "\n";
    } else {
        const auto& a = t["state"];
        std::cout << "  " << cell(a, "name") << " " << cell(a, "state") << ", concurrency " << count(a, "concurrency") << ", "
                  << count(a, "jobs_given") << " jobs given\n";
    }
}

std::string verify_line(const core::json& r) {
    char head[200];
    std::snprintf(head, sizeof head, "verified %s events (%s jobs, %s agents, %s runs, %s keys) in %.2f s",
                  count(r, "events").c_str(), count(r["rebuilt"], "jobs").c_str(), count(r["rebuilt"], "agents").c_str(),
                  count(r["rebuilt"], "runs").c_str(), count(r["rebuilt"], "idempotency_keys").c_str(), r.value("seconds", 0.0));
    std::string out = head;
    if (!r["snapshot_seq"].is_null()) out += ", snapshot at seq " + r["snapshot_seq"].dump();
    const auto& chain = r.contains("chain") ? r["chain"] : core::json();
    if (chain.value("present", false)) {
        out += ", hash chain from seq " + chain["start_seq"].dump();
        if (chain["head"].is_object()) out += " (head at seq " + chain["head"]["seq"].dump() + ")";
    }
    if (!r.value("ok", false)) {
        out += ": " + count(r, "differences") + " difference(s) between the store and its events";
        for (const auto& d : r["first_differences"]) {
            if (d.value("field", std::string{}) != "hash") continue;
            out += "; first not matching its hash: " + cell(d, "object") + " (stored " + cell(d, "stored") + ", expected " +
                   cell(d, "rebuilt") + ")";
            break;
        }
        return out;
    }
    out += ": the store matches its events";
    if (r.value("lagging_rows", 0) > 0)
        out += " (" + count(r, "lagging_rows") + " rows behind events newer than the snapshot, as a running hub leaves them)";
    return out;
}

void print_verify(const core::json& r, const std::string& format) {
    if (format == "json") return print_json(r);
    if (format == "ndjson") {
        for (const auto& d : r["first_differences"]) print_json(d, true);
        core::json tail = r;
        tail.erase("first_differences");
        return print_json(tail, true);
    }
    if (!r["first_differences"].empty()) {
        std::vector<std::vector<std::string>> rows;
        for (const auto& d : r["first_differences"]) rows.push_back({cell(d, "object"), cell(d, "field"), cell(d, "stored"), cell(d, "rebuilt")});
        print_table({"OBJECT", "FIELD", "STORED", "REBUILT"}, rows);
        const auto shown = r["first_differences"].size();
        if (r.value("differences", std::size_t{0}) > shown)
            std::cout << "(" << shown << " of " << count(r, "differences") << " differences shown)\n";
    }
    std::cout << verify_line(r) << std::endl;
}

}  // namespace orbitmesh::cli
