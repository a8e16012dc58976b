// replay --verify, the newest snapshot: the hub's live state at seq S against the fold of the
// events up to S.
#include <set>

#include "core/error.hpp"
#include "core/job_text.hpp"
#include "core/snapshot.hpp"
#include "engine/replay/verify_detail.hpp"

namespace orbitmesh::engine::replay::detail {

namespace {

void check_jobs_at(const core::hub_snapshot& snap, const log_state& state, const std::string& who, findings& out) {
    const auto counts = state.job_counts();
    for (std::size_t i = 0; i < core::job_state_count; ++i) {
        const auto st = static_cast<core::job_state>(i);
        const auto it = counts.find(st);
        const auto rebuilt = static_cast<std::int64_t>(it == counts.end() ? 0 : it->second);
        if (snap.job_counts[i] != rebuilt)
            out.add(who, std::string("job_counts.") + std::string(core::to_string(st)), std::to_string(snap.job_counts[i]),
                    std::to_string(rebuilt));
    }
    std::set<std::string, std::less<>> live;
    std::string text;
    for (const auto& j : snap.jobs) {
        live.insert(j.id);
        const job_slot* s = state.find_job(j.id);
        if (s == nullptr) {
            out.add(who, "job " + j.id, "live", "no events for this job");
            continue;
        }
        if (s->version != j.version) {
            out.add(who, "job " + j.id + ".version", std::to_string(j.version), std::to_string(s->version));
            continue;
        }
        record_text(*s, text);
        if (text == core::to_json_text(j)) continue;
        const auto field = first_difference(core::to_json(j), core::to_json(to_record(*s)), {"progress"});
        if (!field.empty()) out.add(who, "job " + j.id + "." + field, shown(core::to_json(j)[field]), shown(core::to_json(to_record(*s))[field]));
    }
    for (const auto& s : state.jobs())
        if (!core::is_terminal(s.state) && !live.count(s.id))
            out.add(who, "job " + std::string(s.id), "absent", std::string(core::to_string(s.state)));
}

void check_rest_at(const core::hub_snapshot& snap, const log_state& state, const std::string& who, findings& out) {
    for (const auto& a : snap.agents) {
        auto it = state.agents.find(a.record.id);
        if (it == state.agents.end()) {
            out.add(who, "agent " + a.record.id, "present", "no events for this agent");
            continue;
        }
        if (it->second.events != a.events)
            out.add(who, "agent " + a.record.id + ".events", std::to_string(a.events), std::to_string(it->second.events));
        else if (a.connected != (it->second.state == core::agent_state::connected))
            out.add(who, "agent " + a.record.id + ".connected", a.connected ? "true" : "false", a.connected ? "false" : "true");
    }
    for (const auto& k : snap.keys) {
        auto it = state.keys.find({k.kind, k.key});
        const std::string rebuilt = it == state.keys.end() ? "no such key" : it->second.id;
        if (rebuilt != k.id) out.add(who, "idempotency key " + k.kind + ":" + k.key, k.id, rebuilt);
    }
    std::set<std::string> live(snap.live_runs.begin(), snap.live_runs.end());
    std::map<std::string, std::int64_t> counts;
    for (const auto& [id, r] : state.runs) {
        ++counts[std::string(core::to_string(r.state))];
        const bool running = !core::is_terminal(r.state);
        if (running != (live.erase(id) > 0)) out.add(who, "run " + id, running ? "absent" : "live", std::string(core::to_string(r.state)));
    }
    for (const auto& id : live) out.add(who, "run " + id, "live", "no events for this run");
    for (const auto& [st, n] : snap.run_counts) {
        if (counts[st] != n) out.add(who, "run_counts." + st, std::to_string(n), std::to_string(counts[st]));
        counts.erase(st);
    }
    for (const auto& [st, n] : counts)
        if (n != 0) out.add(who, "run_counts." + st, "0", std::to_string(n));
}

}  // namespace

void check_snapshot(const std::string& data, int format, std::int64_t seq, const log_state& state, findings& out) {
    const auto who = "snapshot at seq " + std::to_string(seq);
    core::hub_snapshot snap;
    try {
        snap = core::decode_snapshot(data, format, seq);
    } catch (const core::error& e) {
        out.add(who, "data", "unreadable", e.what());
        return;
    }
    check_jobs_at(snap, state, who, out);
    check_rest_at(snap, state, who, out);
}

}  // namespace orbitmesh::engine::replay::detail
