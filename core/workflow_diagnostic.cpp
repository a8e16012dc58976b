#include "core/workflow_diagnostic.hpp"

namespace orbitmesh::core {

std::string_view to_string(severity s) noexcept {
    return s == severity::error ? "error" : "warning";
}

std::string format(const diagnostic& d) {
    std::string out = d.file.empty() ? std::string("<input>") : d.file;
    // Appends only: GCC 12 warns falsely (-Wrestrict) on `"literal" + std::string` here.
    if (d.line > 0) {
        out += ':';
        out += std::to_string(d.line);
    }
    out += ": ";
    out += to_string(d.level);
    out += ": ";
    out += d.message;
    if (!d.hint.empty()) {
        out += " (";
        out += d.hint;
        out += ')';
    }
    return out;
}

json to_json(const diagnostic& d) {
    json j = {{"file", d.file}, {"line", d.line}};
    if (d.column > 0) j["column"] = d.column;
    j["severity"] = std::string(to_string(d.level));
    j["message"] = d.message;
    j["hint"] = d.hint;
    return j;
}

std::size_t count(const std::vector<diagnostic>& list, severity level) noexcept {
    std::size_t n = 0;
    for (const auto& d : list) n += d.level == level ? 1 : 0;
    return n;
}

}  // namespace orbitmesh::core
