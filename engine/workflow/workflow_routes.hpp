#pragma once
#include <memory>

#include "engine/hub/http_api.hpp"
#include "engine/workflow/runner.hpp"

namespace orbitmesh::engine {

/// Adds the `workflows`, `runs` and `events` routes of docs/http-api.md over a runner (operators
/// and admins). Handlers parse on the calling thread and run the runner on the hub strand through
/// `post`.
void add_workflow_routes(route_table& table, std::shared_ptr<runner> rn, strand_poster post);

}  // namespace orbitmesh::engine
