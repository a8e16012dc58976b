#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/job.hpp"
#include "engine/hub/dispatcher.hpp"

namespace orbitmesh::engine {

/// A connected agent as the explanation sees it: the dispatcher's view plus whether its circuit
/// breaker has it out of rotation.
struct pending_candidate {
    agent_view view;
    bool out_of_rotation = false;
};

/// Why a pending job has no agent yet, in words for `job get`, `status` and the CLI's stderr:
/// `no connected agent has capability "gpu"`, `no connected agent is named "db-*"`, ... Uses the
/// same rules as dispatcher::can_run. Pure; `agents` are the connected ones.
std::string explain_pending(const core::job_record& job, const std::vector<pending_candidate>& agents, std::int64_t now_ms);

}  // namespace orbitmesh::engine
