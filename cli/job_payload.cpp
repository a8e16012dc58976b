#include "cli/job_payload.hpp"

#include <algorithm>

#include "core/job.hpp"

namespace orbitmesh::cli {

namespace {

std::string join(const std::vector<std::string>& words) {
    std::string out;
    for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
    return out;
}

/// `5` → 5, `true` → true, anything else stays text.
core::json scalar(const std::string& text) {
    try {
        auto j = core::json::parse(text);
        if (j.is_number() || j.is_boolean() || j.is_null()) return j;
    } catch (const core::json::exception&) {
    }
    return text;
}

bool is_pair(const std::string& w) {
    auto eq = w.find('=');
    return eq != std::string::npos && eq > 0;
}

}  // namespace

core::json payload_from_words(const std::string& command, const std::vector<std::string>& args) {
    auto name = core::canonical_command(command);
    if (args.empty()) return nullptr;
    if (name == "shell") return join(args);
    if (name == "exec") return args;
    if (std::all_of(args.begin(), args.end(), is_pair)) {
        core::json obj = core::json::object();
        for (const auto& w : args) obj[w.substr(0, w.find('='))] = scalar(w.substr(w.find('=') + 1));
        return obj;
    }
    return join(args);
}

}  // namespace orbitmesh::cli
