// The job_port side of the hub: how strand-bound components (the workflow runner) create and
// follow jobs without going through HTTP.
#include "core/clock.hpp"
#include "core/ids.hpp"
#include "core/job_events.hpp"
#include "core/traceparent.hpp"
#include "engine/hub/hub.hpp"
#include "engine/hub/hub_state.hpp"

namespace orbitmesh::engine {

std::string hub::create_job(core::job_spec spec, store::write_batch& batch) {
    core::validate(spec);
    check_secrets(spec);  // throws before anything is created
    // Every job is in a trace (SPEC §9): the submitter's, or one made here. `trace` is the parent
    // context; the job's own span id is derived from its id (core::child_of).
    if (spec.trace.empty()) spec.trace = core::new_trace().text();
    core::job_record job;
    job.id = core::new_id();
    std::string id = job.id;
    auto e = core::make_job_event(job, core::job_event::submitted, {{"id", id}, {"spec", core::to_json(spec)}},
                                  clock_.now_ms());
    core::apply_submitted(job, e, std::move(spec));
    if (!job.spec.idempotency_key.empty())  // the idempotency_keys projection, with the event that made it
        batch.keys.push_back({"job", job.spec.idempotency_key, id, job.created_ms, opts_.idempotency_window_ms});
    ++total_jobs_;
    recorded(job, true, job.state, std::move(e), batch);
    auto& stored = jobs_.emplace(id, std::move(job)).first->second;
    dispatcher_.enqueue(stored);
    arm_pending_timeout(stored);
    schedule_dispatch();  // posted: runs after the caller has handed `batch` to commit()
    return id;
}

std::vector<core::agent_record> hub::agents_for(const core::job_spec& spec) {
    std::vector<core::agent_record> out;
    std::int64_t now = clock_.now_ms();
    for (auto& [id, a] : agents_) {
        if (!a->peer || circuit_breaker::is_open(a->rec, now)) continue;
        agent_view view{&a->rec, &a->handlers, static_cast<int>(a->jobs.size())};
        if (dispatcher::can_run(spec, view)) out.push_back(a->rec);
    }
    return out;
}

}  // namespace orbitmesh::engine
