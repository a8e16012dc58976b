// Why no agent takes a job: each part of its target checked alone against the connected agents,
// so the reason names the part nobody offers rather than "no match".
#include "engine/hub/pending_reason.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <functional>

#include "core/clock.hpp"

namespace orbitmesh::engine {

namespace {

using candidates = std::vector<pending_candidate>;

bool any_of(const candidates& agents, const std::function<bool(const core::agent_record&, const agent_view&)>& pred) {
    return std::any_of(agents.begin(), agents.end(), [&](const pending_candidate& c) { return pred(*c.view.record, c.view); });
}

bool named(const core::agent_record& a, const std::string& want) {
    if (want == a.id || want == a.name) return true;
    return want.find_first_of("*?[") != std::string::npos && ::fnmatch(want.c_str(), a.name.c_str(), 0) == 0;
}

bool offers(const agent_view& v, const std::string& command) {
    return v.handlers == nullptr || v.handlers->empty() || v.handlers->count(command) != 0;
}

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

/// The parts of the target that no connected agent meets, one phrase each.
std::vector<std::string> unmet_parts(const core::job_spec& spec, const candidates& agents) {
    std::vector<std::string> out;
    const auto& t = spec.target;
    if (!t.agent.empty() && !any_of(agents, [&](const auto& a, const auto&) { return named(a, t.agent); }))
        out.push_back("no connected agent is named " + quoted(t.agent));
    for (const auto& cap : t.capabilities)
        if (!any_of(agents, [&](const auto& a, const auto&) {
                return std::find(a.capabilities.begin(), a.capabilities.end(), cap) != a.capabilities.end();
            }))
            out.push_back("no connected agent has capability " + quoted(cap));
    for (const auto& [k, v] : t.tags)
        if (!any_of(agents, [&](const auto& a, const auto&) {
                auto it = a.tags.find(k);
                return it != a.tags.end() && it->second == v;
            }))
            out.push_back("no connected agent has tag " + k + "=" + v);
    if (!any_of(agents, [&](const auto&, const auto& v) { return offers(v, spec.command); })) {
        bool shell = spec.command == "shell" || spec.command == "exec";
        out.push_back("no connected agent offers handler " + quoted(spec.command) +
                      (shell ? " (the connected agents run with --no-shell)" : ""));
    }
    return out;
}

std::string joined(const std::vector<std::string>& parts) {
    std::string s;
    for (const auto& p : parts) s += (s.empty() ? "" : "; ") + p;
    return s;
}

}  // namespace

std::string explain_pending(const core::job_record& job, const candidates& agents, std::int64_t now_ms) {
    if (job.state != core::job_state::pending) return {};
    if (job.not_before_ms > now_ms) return "waiting out its retry backoff until " + core::format_time(job.not_before_ms);
    if (agents.empty()) return "no agent is connected";
    if (auto unmet = unmet_parts(job.spec, agents); !unmet.empty()) return joined(unmet);
    int able = 0, rotation = 0, busy = 0;
    for (const auto& c : agents) {
        if (!dispatcher::can_run(job.spec, c.view)) continue;
        ++able;
        if (c.out_of_rotation) ++rotation;
        else if (c.view.running >= c.view.record->concurrency) ++busy;
    }
    if (able == 0) return "no single connected agent meets all of its target (name, capabilities, tags and handler)";
    if (rotation == able) return "every agent that can run it is out of rotation (circuit breaker open after failures)";
    if (rotation + busy == able)
        return "every agent that can run it is busy (" + std::to_string(able) + " agent" + (able == 1 ? "" : "s") +
               ", all slots in use)";
    return "waiting for the dispatcher (an agent that can run it has a free slot)";
}

}  // namespace orbitmesh::engine
