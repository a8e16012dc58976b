#pragma once
#include <string>

#include "core/workflow.hpp"

namespace orbitmesh::engine {

/// The HMAC key of a webhook trigger: its `secret` as written, or the value of a whole
/// `${{ env.NAME }}` (the hub's environment) or `${{ vars.NAME }}` (the workflow's variables).
/// "" when there is none, and then every delivery is refused.
std::string webhook_secret(const core::workflow& wf, const core::workflow_trigger& t);

/// `source` with every webhook secret that appears in it literally replaced by "********", so
/// the API never returns one (SPEC §8).
std::string mask_webhook_secrets(const core::workflow& wf, std::string source);

}  // namespace orbitmesh::engine
