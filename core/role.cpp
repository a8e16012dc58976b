#include "core/role.hpp"

namespace orbitmesh::core {

std::string_view to_string(role r) noexcept {
    switch (r) {
    case role::agent: return "agent";
    case role::operator_: return "operator";
    case role::admin: return "admin";
    }
    return "unknown";
}

std::optional<role> parse_role(std::string_view text) noexcept {
    for (auto r : {role::agent, role::operator_, role::admin})
        if (text == to_string(r)) return r;
    return std::nullopt;
}

std::string role_set::text() const {
    std::string out;
    for (auto r : {role::agent, role::operator_, role::admin}) {
        if (!contains(r)) continue;
        if (!out.empty()) out += ", ";
        out += to_string(r);
    }
    return out.empty() ? "nobody" : out;
}

}  // namespace orbitmesh::core
