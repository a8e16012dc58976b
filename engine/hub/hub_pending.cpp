// Pending jobs explained: why no agent takes one (`pending_reason` in its record) and
// `pending_timeout`, which fails a job that no agent took in time, with that reason.
#include "core/duration.hpp"
#include "engine/hub/circuit_breaker.hpp"
#include "engine/hub/hub.hpp"
#include "engine/hub/hub_state.hpp"
#include "engine/hub/pending_reason.hpp"

namespace orbitmesh::engine {

std::string hub::pending_reason(const core::job_record& job) {
    if (job.state != core::job_state::pending) return {};
    std::vector<pending_candidate> agents;
    const std::int64_t now = clock_.now_ms();
    for (auto& [id, a] : agents_)
        if (a->peer)
            agents.push_back({{&a->rec, &a->handlers, static_cast<int>(a->jobs.size())}, circuit_breaker::is_open(a->rec, now)});
    return explain_pending(job, agents, now);
}

core::json hub::job_json(const core::job_record& job) {
    auto j = core::to_json(job);
    if (job.state == core::job_state::pending) j["pending_reason"] = pending_reason(job);
    return j;
}

void hub::arm_pending_timeout(const core::job_record& job) {
    const auto limit = job.spec.pending_timeout_ms;
    if (limit <= 0 || job.state != core::job_state::pending || job.attempt > 0) return;
    const auto left = std::max<std::int64_t>(0, job.created_ms + limit - clock_.now_ms());
    deadlines_->after(left, [this, id = job.id] {
        auto* j = find_job(id);
        // Only a job that no agent ever took: once assigned, its own timeout and retries apply.
        if (!j || j->state != core::job_state::pending || j->attempt > 0) return;
        auto why = "no agent took the job within its pending_timeout of " + core::format_duration(j->spec.pending_timeout_ms) +
                   ": " + pending_reason(*j);
        dispatcher_.remove(id);
        store::write_batch batch;
        finish_job(*j, core::job_state::failed, {{"error", why}}, batch);
        persist(std::move(batch), [this, id] { job_ended(id); });
    });
}

}  // namespace orbitmesh::engine
