#include "engine/workflow/webhook_secret.hpp"

#include <cstdlib>
#include <string_view>

namespace orbitmesh::engine {

namespace {

std::string_view trimmed(std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    return s;
}

}  // namespace

std::string webhook_secret(const core::workflow& wf, const core::workflow_trigger& t) {
    std::string_view s = t.secret;
    if (s.substr(0, 3) != "${{" || s.size() < 5 || s.substr(s.size() - 2) != "}}") return t.secret;
    const auto name = trimmed(s.substr(3, s.size() - 5));
    if (name.substr(0, 4) == "env.") {
        const char* v = std::getenv(std::string(name.substr(4)).c_str());
        return v == nullptr ? std::string{} : std::string(v);
    }
    if (name.substr(0, 5) == "vars." && wf.variables.is_object()) {
        auto it = wf.variables.find(std::string(name.substr(5)));
        if (it != wf.variables.end() && it->is_string()) return it->get<std::string>();
    }
    return {};
}

std::string mask_webhook_secrets(const core::workflow& wf, std::string source) {
    for (const auto& t : wf.triggers) {
        if (t.type != core::trigger_type::webhook || t.secret.find("env.") != std::string::npos) continue;
        const auto secret = webhook_secret(wf, t);
        if (secret.size() < 4) continue;
        for (auto at = source.find(secret); at != std::string::npos; at = source.find(secret, at + 8))
            source.replace(at, secret.size(), "********");
    }
    return source;
}

}  // namespace orbitmesh::engine
