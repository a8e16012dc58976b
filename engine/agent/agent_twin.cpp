// The agent's half of its twin (SPEC §7): applies `drain`, `concurrency` and `labels` from the
// desired half and reports its detected facts (os, arch, cores, memory, version) with what it
// applied. Concurrency can be lowered below --concurrency (the agent's slots), not raised past it.
#include <algorithm>

#include "core/protocol.hpp"
#include "engine/agent/agent_log.hpp"
#include "engine/agent/agent_session.hpp"
#include "engine/agent/message_builder.hpp"
#include "engine/agent/system_facts.hpp"

namespace orbitmesh::engine::agent {

void agent_session::on_twin_desired(const core::json& m) {
    auto d = m.find("desired");
    if (d == m.end() || !d->is_object()) return log_verbose("ignoring a twin_desired without a desired map");
    twin_version_ = m.value("version", twin_version_);
    const bool drain = d->contains("drain") && (*d)["drain"].is_boolean() && (*d)["drain"].get<bool>();
    if (drain != runner_.paused()) log_line(drain ? "twin: draining (running jobs finish, no new ones)" : "twin: drain cleared, taking jobs");
    runner_.set_paused(drain);
    twin_applied_["drain"] = drain;
    int concurrency = profile_.concurrency;
    if (auto c = d->find("concurrency"); c != d->end() && c->is_number_integer() && c->get<int>() >= 1)
        concurrency = std::min(c->get<int>(), runner_.slots());
    twin_applied_["concurrency"] = concurrency;
    core::json labels = core::json::object();
    for (const auto& [k, v] : profile_.tags) labels[k] = v;
    if (auto l = d->find("labels"); l != d->end() && l->is_object())
        for (const auto& [k, v] : l->items())
            if (v.is_string()) labels[k] = v;
    twin_applied_["labels"] = std::move(labels);
    report_twin();
}

void agent_session::report_twin() {
    auto facts = system_info(profile_.disk_path);
    core::json reported{{"os", facts.value("os", "")},         {"arch", facts.value("arch", "")},
                        {"cores", facts.value("cores", 0)},    {"memory_bytes", facts["memory_bytes"]},
                        {"kernel", facts.value("kernel", "")}, {"version", profile_.version},
                        {"drain", runner_.paused()},           {"concurrency", profile_.concurrency},
                        {"desired_version", twin_version_}};
    for (const auto& [k, v] : twin_applied_.items()) reported[k] = v;
    send_(message_builder(core::protocol::msg::twin_reported).add("version", ++reported_version_).add("reported", reported).done());
}

}  // namespace orbitmesh::engine::agent
