#pragma once
#include <cstddef>
#include <string>

namespace orbitmesh::engine {

/// What `GET /api/v1/jobs` asks for: one page of jobs, newest first, each filter optional. Paging
/// is by cursor (`before`, the last id of the previous page) so a page costs the same however deep
/// it is, and new jobs arriving do not shift the pages already seen.
struct job_query {
    std::size_t limit = 1000;
    std::string state;    // a job state; "" = any
    std::string command;  // the job's command, exactly; "" = any
    std::string agent;    // the name or id of the agent it was (last) assigned to; "" = any
    std::string before;   // a job id: only jobs older than it; "" = from the newest
};

}  // namespace orbitmesh::engine
