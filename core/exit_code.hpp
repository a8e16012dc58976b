#pragma once
#include "core/error.hpp"

namespace orbitmesh::core {

/// Process exit codes; stable, documented in `orbitmesh --help` and the man page (SPEC §1).
enum exit_code : int {
    exit_ok = 0,
    exit_failed = 1,       // the job or workflow failed; replay --verify found a difference
    exit_usage = 2,        // bad usage or invalid input
    exit_unavailable = 3,  // cannot reach or authenticate to the server
    exit_timeout = 4,
    exit_cancelled = 5,
    exit_interrupted = 130,
};

int exit_code_for(error_kind k) noexcept;

}  // namespace orbitmesh::core
