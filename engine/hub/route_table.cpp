#include "engine/hub/route_table.hpp"

#include "core/error.hpp"

namespace orbitmesh::engine {

namespace {

/// "/api/v1/jobs/ID" -> {"api", "v1", "jobs", "ID"}; empty segments (double slashes) are skipped.
std::vector<std::string_view> split(std::string_view path) {
    std::vector<std::string_view> out;
    while (!path.empty()) {
        auto slash = path.find('/');
        auto part = path.substr(0, slash);
        if (!part.empty()) out.push_back(part);
        if (slash == std::string_view::npos) break;
        path.remove_prefix(slash + 1);
    }
    return out;
}

bool is_param(const std::string& segment) { return segment.size() > 2 && segment.front() == '{' && segment.back() == '}'; }

/// How well `pattern` matches: -1 when it does not, else a bit per literal segment, the first
/// segment highest, so a literal earlier in the path wins over a parameter there.
long long score(const std::vector<std::string>& pattern, const std::vector<std::string_view>& path,
                route_params* params) {
    if (pattern.size() != path.size() || pattern.size() > 60) return -1;
    long long s = 0;
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        s <<= 1;
        if (is_param(pattern[i])) {
            if (params) params->emplace_back(path[i]);
        } else if (pattern[i] == path[i]) {
            s |= 1;
        } else {
            return -1;
        }
    }
    return s;
}

}  // namespace

void route_table::insert(route r) {
    for (const auto& existing : routes_)
        if (existing.method == r.method && existing.pattern == r.pattern)
            throw core::error(core::error_kind::internal, "route " + r.method + " " + r.pattern + " is defined twice");
    std::vector<std::string> segments;
    for (auto part : split(r.pattern)) segments.emplace_back(part);
    patterns_.push_back(std::move(segments));
    routes_.push_back(std::move(r));
}

void route_table::add(std::string method, std::string pattern, core::role_set allowed, route_handler handler) {
    if (allowed.empty())
        throw core::error(core::error_kind::internal, "route " + method + " " + pattern + " admits no role");
    insert(route{std::move(method), std::move(pattern), allowed, false, std::move(handler), {}});
}

void route_table::add_open(std::string method, std::string pattern, route_handler handler) {
    insert(route{std::move(method), std::move(pattern), {}, true, std::move(handler), {}});
}

void route_table::add_signed(std::string method, std::string pattern, std::string credential, route_handler handler) {
    if (credential.empty()) throw core::error(core::error_kind::internal, "route " + pattern + " is signed by nothing");
    insert(route{std::move(method), std::move(pattern), {}, true, std::move(handler), std::move(credential)});
}

route_table::match_result route_table::match(std::string_view method, std::string_view path) const {
    auto parts = split(path);
    match_result best;
    long long best_score = -1;
    std::size_t best_index = 0;
    for (std::size_t i = 0; i < routes_.size(); ++i) {
        if (routes_[i].method != method) continue;
        auto s = score(patterns_[i], parts, nullptr);
        if (s > best_score) {
            best_score = s;
            best_index = i;
            best.found = &routes_[i];
        }
    }
    if (best.found) score(patterns_[best_index], parts, &best.params);
    return best;
}

core::json route_table::describe() const {
    core::json out = core::json::array();
    for (const auto& r : routes_) {
        core::json roles = core::json::array();
        for (auto role : {core::role::agent, core::role::operator_, core::role::admin})
            if (r.open || r.allowed.contains(role)) roles.push_back(core::to_string(role));
        out.push_back({{"method", r.method}, {"path", r.pattern}, {"roles", roles}, {"open", r.open}});
        if (!r.credential.empty()) out.back()["credential"] = r.credential;
    }
    return {{"routes", std::move(out)}};
}

}  // namespace orbitmesh::engine
