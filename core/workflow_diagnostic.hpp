#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.hpp"

namespace orbitmesh::core {

enum class severity { error, warning };
std::string_view to_string(severity s) noexcept;

/// One problem found in a workflow file: where it is, how bad, what is wrong and how to fix it.
/// Validation collects these instead of throwing, so a user sees every problem at once.
struct diagnostic {
    std::string file;
    int line = 0;    // 1-based; 0 = unknown
    int column = 0;  // 1-based; 0 = unknown
    severity level = severity::error;
    std::string message;
    std::string hint;  // how to fix it; may be empty
};

/// `FILE:LINE: error: MESSAGE (HINT)`, the form compilers use, so editors can jump to it.
std::string format(const diagnostic& d);
/// `{file, line, column?, severity, message, hint}`; column only when known.
json to_json(const diagnostic& d);
std::size_t count(const std::vector<diagnostic>& list, severity level) noexcept;

}  // namespace orbitmesh::core
