#include "engine/replay/verify.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>

#include "core/error.hpp"
#include "core/msgpack_view.hpp"
#include "core/run_events.hpp"
#include "engine/replay/log_fold.hpp"
#include "engine/replay/verify_detail.hpp"
#include "store/event_hash.hpp"
#include "store/event_scan.hpp"
#include "store/projection_scan.hpp"

namespace orbitmesh::engine::replay {

namespace detail {

std::string shown_text(std::string_view text) {
    if (text.size() <= 200) return std::string(text);
    return std::string(text.substr(0, 197)) + "...";
}

std::string shown(const core::json& v) { return shown_text(v.dump(-1, ' ', false, core::json::error_handler_t::replace)); }

std::string first_difference(const core::json& stored, const core::json& rebuilt, std::initializer_list<std::string_view> ignore) {
    if (!stored.is_object() || !rebuilt.is_object()) return stored == rebuilt ? "" : "(whole record)";
    std::map<std::string, int> keys;
    for (const auto& [k, v] : stored.items()) keys[k] |= 1;
    for (const auto& [k, v] : rebuilt.items()) keys[k] |= 2;
    for (const auto& [k, where] : keys) {
        bool skip = false;
        for (auto i : ignore) skip = skip || k == i;
        if (skip) continue;
        if (where != 3 || stored[k] != rebuilt[k]) return k;
    }
    return "";
}

void check_agents(store::projection_scan& rows, const log_state& state, findings& out) {
    std::map<std::string, std::pair<std::string, core::json>, std::less<>> stored;  // id -> (state, record)
    rows.agents([&](const store::agent_row_view& r) {
        core::json rec;
        try {
            rec = core::json::parse(r.record);
        } catch (const core::json::exception&) {
            rec = nullptr;
        }
        stored.emplace(std::string(r.id), std::make_pair(std::string(r.state), std::move(rec)));
    });
    for (const auto& [id, a] : state.agents) {
        const auto who = "agent " + a.name + " (" + id + ")";
        auto it = stored.find(id);
        if (it == stored.end()) {
            out.add(who, "row", "missing", std::string(core::to_string(a.state)));
            continue;
        }
        ++out.rows;
        const auto& [row_state, rec] = it->second;
        if (row_state != core::to_string(a.state)) {
            out.add(who, "state", row_state, std::string(core::to_string(a.state)));
        } else if (!rec.is_object()) {
            out.add(who, "record", "unreadable JSON", "a record");
        } else {
            const auto rebuilt = core::to_json(core::to_record(a));
            for (const char* field : {"name", "tags", "capabilities", "concurrency", "version"}) {
                if (rec.value(field, core::json()) == rebuilt[field]) continue;
                out.add(who, std::string("record.") + field, shown(rec.value(field, core::json())), shown(rebuilt[field]));
                break;
            }
        }
        stored.erase(it);
    }
    for (const auto& [id, row] : stored) out.add("agent " + id, "row", "present", "no events for this agent");
}

namespace {

std::string run_text(const core::run_record& r) {
    return core::to_json(r).dump(-1, ' ', false, core::json::error_handler_t::replace);
}

/// The run as it was at `version`, and the seq of its first event after that (0: none).
std::pair<core::run_record, std::int64_t> run_at(store::event_scan& events, const std::string& id, std::int64_t version) {
    core::run_record r;
    std::int64_t next = 0;
    events.stream("run-" + id, INT64_MAX, [&](const core::event_view& v) {
        if (v.version > version) {
            if (next == 0) next = v.seq;
            return;
        }
        try {
            core::apply(r, core::to_event(v));
        } catch (const core::error&) {
            // reported by the fold of the whole log
        }
    });
    return {std::move(r), next};
}

}  // namespace

void check_runs(store::projection_scan& rows, store::event_scan& events, const log_state& state, std::int64_t watermark,
                findings& out) {
    std::map<std::string, bool, std::less<>> seen;
    rows.runs([&](const store::run_row_view& row) {
        ++out.rows;
        const auto who = "run " + std::string(row.id);
        auto it = state.runs.find(row.id);
        if (it == state.runs.end()) return out.add(who, "row", "present", "no events for this run");
        seen[std::string(row.id)] = true;
        const core::run_record* rebuilt = &it->second;
        core::run_record earlier;
        if (row.version > rebuilt->version)
            return out.add(who, "version", std::to_string(row.version), std::to_string(rebuilt->version));
        if (row.version < rebuilt->version) {
            auto [r, next] = run_at(events, it->first, row.version);
            if (next != 0 && next <= watermark)
                return out.add(who, "version", std::to_string(row.version),
                               "newer events up to the snapshot at seq " + std::to_string(watermark));
            earlier = std::move(r);
            rebuilt = &earlier;
            ++out.lagging;
        }
        const auto text = run_text(*rebuilt);
        if (text == row.record) return;
        core::json stored;
        try {
            stored = core::json::parse(row.record);
        } catch (const core::json::exception&) {
            return out.add(who, "record", "unreadable JSON", "a record");
        }
        const auto expected = core::to_json(*rebuilt);
        const auto field = first_difference(stored, expected, {});
        out.add(who, field.empty() ? "record" : "record." + field, shown(stored.value(field, core::json())),
                shown(expected.value(field, core::json())));
    });
    for (const auto& [id, r] : state.runs) {
        if (seen.count(id)) continue;
        auto [first, next] = run_at(events, id, 0);
        if (next > watermark) {
            ++out.lagging;  // began after the snapshot: its row comes later
            continue;
        }
        out.add("run " + id, "row", "missing", std::string(core::to_string(r.state)));
    }
}

void check_keys(store::projection_scan& rows, const log_state& state, std::int64_t watermark, findings& out) {
    std::map<std::pair<std::string, std::string>, std::string> stored;
    rows.keys([&](const store::key_row_view& k) { stored[{std::string(k.kind), std::string(k.key)}] = std::string(k.id); });
    for (const auto& [k, entry] : state.keys) {
        const auto who = "idempotency key " + k.first + ":" + k.second;
        auto it = stored.find(k);
        if (it == stored.end()) {
            if (entry.seq > watermark) ++out.lagging;
            else out.add(who, "row", "missing", entry.id);
            continue;
        }
        ++out.rows;
        if (it->second != entry.id) out.add(who, "id", it->second, entry.id);
        stored.erase(it);
    }
    for (const auto& [k, id] : stored) out.add("idempotency key " + k.first + ":" + k.second, "row", id, "no event created it");
}

}  // namespace detail

namespace {

double process_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

}  // namespace

verify_report verify_store(const std::filesystem::path& file, const verify_options& opts) {
    const auto t0 = std::chrono::steady_clock::now();
    const double cpu0 = process_cpu_seconds();
    verify_report report;
    report.store = file.string();
    detail::findings found{opts.max_differences};
    store::projection_scan rows(file);
    const auto snapshot = rows.newest_snapshot();
    const std::int64_t watermark = snapshot ? snapshot->seq : 0;
    chain_check chain;
    fold_options fo;
    fo.chain = &chain;
    fo.threads = opts.threads;
    fo.min_range = opts.min_range;
    if (snapshot) {
        report.snapshot_seq = snapshot->seq;
        fo.pause_at = snapshot->seq;
        fo.at_pause = [&](const log_state& at) { detail::check_snapshot(snapshot->data, snapshot->format, snapshot->seq, at, found); };
    }
    const auto state = fold_log(file, fo);
    if (snapshot && snapshot->seq == state.last_seq) detail::check_snapshot(snapshot->data, snapshot->format, snapshot->seq, state, found);
    if (snapshot && snapshot->seq > state.last_seq)
        found.add("snapshot at seq " + std::to_string(snapshot->seq), "seq", std::to_string(snapshot->seq),
                  "the log ends at " + std::to_string(state.last_seq));
    for (const auto& r : state.refused)
        found.add("event " + std::to_string(r.seq), "fold", r.stream + " " + r.type, "refused: " + r.reason);
    found.count += state.refused_count - state.refused.size();
    const auto t1 = std::chrono::steady_clock::now();
    const double cpu1 = process_cpu_seconds();
    report.fold_seconds = std::chrono::duration<double>(t1 - t0).count();
    report.fold_cpu_seconds = cpu1 - cpu0;
    const int threads = opts.threads > 0 ? opts.threads : 2;
    detail::check_jobs(file, state, watermark, threads, found);
    report.jobs_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
    report.jobs_cpu_seconds = process_cpu_seconds() - cpu1;
    store::event_scan events(file);
    report.chain = chain.finish(events, opts.max_differences, threads);
    detail::check_agents(rows, state, found);
    detail::check_runs(rows, events, state, watermark, found);
    detail::check_keys(rows, state, watermark, found);

    report.events = static_cast<std::int64_t>(state.events);
    report.last_seq = state.last_seq;
    report.jobs = state.jobs().size();
    report.agents = state.agents.size();
    report.runs = state.runs.size();
    report.keys = state.keys.size();
    report.rows = found.rows;
    report.lagging = found.lagging;
    // The chain's findings first: the first edited event is what an operator looks for.
    for (const auto& m : report.chain.mismatches) report.differences.push_back({m.object, "hash", m.stored, m.expected});
    for (auto& d : found.list)
        if (report.differences.size() < opts.max_differences) report.differences.push_back(std::move(d));
    report.difference_count = found.count + report.chain.mismatch_count;
    report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    report.cpu_seconds = process_cpu_seconds() - cpu0;
    return report;
}

core::json chain_json(const chain_result& c) {
    if (!c.present) return {{"present", false}};
    core::json head = nullptr;
    if (c.head) head = {{"seq", c.head->last_seq}, {"hash", store::to_hex(c.head->hash)}};
    return {{"present", true}, {"start_seq", c.start_seq}, {"events_checked", c.hashed}, {"checkpoints", c.checkpoints},
            {"head", std::move(head)}, {"mismatches", c.mismatch_count}};
}

core::json to_json(const verify_report& r) {
    core::json diffs = core::json::array();
    for (const auto& d : r.differences)
        diffs.push_back({{"object", d.object}, {"field", d.field}, {"stored", d.stored}, {"rebuilt", d.rebuilt}});
    return {{"ok", r.ok()},
            {"store", r.store},
            {"events", r.events},
            {"last_seq", r.last_seq},
            {"rebuilt", {{"jobs", r.jobs}, {"agents", r.agents}, {"runs", r.runs}, {"idempotency_keys", r.keys}}},
            {"rows_compared", r.rows},
            {"lagging_rows", r.lagging},
            {"snapshot_seq", r.snapshot_seq ? core::json(*r.snapshot_seq) : core::json()},
            {"chain", chain_json(r.chain)},
            {"differences", r.difference_count},
            {"first_differences", std::move(diffs)},
            {"seconds", r.seconds},
            {"cpu_seconds", r.cpu_seconds},
            {"phases", {{"fold", r.fold_seconds}, {"jobs", r.jobs_seconds}, {"rest", r.seconds - r.fold_seconds - r.jobs_seconds},
                        {"fold_cpu", r.fold_cpu_seconds}, {"jobs_cpu", r.jobs_cpu_seconds}}},
            {"events_per_second", r.seconds > 0 ? static_cast<double>(r.events) / r.seconds : 0.0}};
}

std::string summary_line(const verify_report& r) {
    char head[160];
    std::snprintf(head, sizeof head, "%lld events (%zu jobs, %zu agents, %zu runs, %zu keys) in %.2f s",
                  static_cast<long long>(r.events), r.jobs, r.agents, r.runs, r.keys, r.seconds);
    std::string out = std::string("verified ") + head;
    if (r.snapshot_seq) out += ", snapshot at seq " + std::to_string(*r.snapshot_seq);
    if (r.chain.present) out += ", hash chain from seq " + std::to_string(r.chain.start_seq);
    if (!r.ok()) return out + ": " + std::to_string(r.difference_count) + " difference(s)";
    out += ": the store matches its events";
    if (r.lagging > 0) out += " (" + std::to_string(r.lagging) + " rows behind events newer than the snapshot, as a running hub leaves them)";
    return out;
}

}  // namespace orbitmesh::engine::replay
