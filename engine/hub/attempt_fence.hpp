#pragma once
#include <string_view>

#include "core/job.hpp"

namespace orbitmesh::engine {

/// Fence by attempt (docs/architecture.md): a message or a deadline speaks for one attempt of a job
/// (and, for messages, the agent that sent it). It may act only while that is still the job's
/// current assignment: in flight, the same attempt, the same agent. The one check behind `ack`,
/// `nack`, `output`, `progress`, `result`, hello's reconciliation, the ACK and job-timeout
/// deadlines, the cancel grace period and reclaim after agent loss.
class attempt_fence {
public:
    /// `agent_id` empty: any agent (deadlines armed for the attempt itself).
    explicit attempt_fence(int attempt, std::string_view agent_id = {}) noexcept : attempt_(attempt), agent_id_(agent_id) {}

    /// The job is in flight on this attempt (and agent).
    bool admits(const core::job_record* job) const noexcept {
        return job != nullptr && (job->state == core::job_state::assigned || job->state == core::job_state::running) &&
               job->attempt == attempt_ && (agent_id_.empty() || job->agent_id == agent_id_);
    }
    /// admits() and the agent has not ACKed yet: for `ack`, `nack`, sending `assign`, the ACK deadline.
    bool admits_unacked(const core::job_record* job) const noexcept {
        return admits(job) && job->state == core::job_state::assigned;
    }

private:
    int attempt_;
    std::string_view agent_id_;
};

}  // namespace orbitmesh::engine
