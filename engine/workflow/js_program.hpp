#pragma once

namespace orbitmesh::engine {

/// The node program behind js_engine: request JSON on stdin, one result line on stdout.
const char* js_sandbox_program();

}  // namespace orbitmesh::engine
