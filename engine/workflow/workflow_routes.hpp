#pragma once
#include <memory>

#include "engine/hub/http_api.hpp"
#include "engine/workflow/runner.hpp"

namespace orbitmesh::engine {

/// The `workflows`, `runs` and `events` collections of docs/http-api.md over a runner. Handlers
/// parse on the calling thread and run the runner on the hub strand through `post`.
extra_routes make_workflow_routes(std::shared_ptr<runner> rn, strand_poster post);

}  // namespace orbitmesh::engine
