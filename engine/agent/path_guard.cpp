#include "engine/agent/path_guard.hpp"

#include <algorithm>
#include <system_error>

#include "core/error.hpp"

namespace orbitmesh::engine::agent {

namespace fs = std::filesystem;

namespace {

fs::path resolved(const fs::path& p) {
    std::error_code ec;
    auto r = fs::weakly_canonical(fs::absolute(p, ec), ec);
    return ec ? fs::absolute(p).lexically_normal() : r;
}

bool has_prefix(const fs::path& p, const fs::path& root) {
    auto [r, q] = std::mismatch(root.begin(), root.end(), p.begin(), p.end());
    // A trailing separator shows up as an empty last element of `root`.
    return r == root.end() || (std::next(r) == root.end() && r->empty());
}

/// weakly_canonical leaves a dangling symlink unresolved; following it later (a write creating the
/// target) could leave the root, so any symlink still in the path is refused.
bool contains_symlink(const fs::path& p) {
    fs::path prefix;
    for (const auto& part : p) {
        prefix /= part;
        std::error_code ec;
        if (fs::is_symlink(fs::symlink_status(prefix, ec))) return true;
    }
    return false;
}

std::string roots_text(const std::vector<fs::path>& roots) {
    std::string s;
    for (const auto& r : roots) s += (s.empty() ? "" : ", ") + r.string();
    return s.empty() ? "none configured" : s;
}

}  // namespace

path_guard::path_guard(std::vector<fs::path> roots) {
    for (auto& r : roots) roots_.push_back(resolved(r));
}

bool path_guard::inside_a_root(const fs::path& p) const {
    return std::any_of(roots_.begin(), roots_.end(), [&](const fs::path& r) { return has_prefix(p, r); });
}

fs::path path_guard::resolve(std::string_view requested, std::string_view what) const {
    auto refuse = [&](const std::string& why) {
        throw core::error(core::error_kind::invalid_input,
                          std::string(what) + ": path \"" + std::string(requested) + "\" " + why);
    };
    if (requested.empty()) refuse("is empty");
    if (requested.find('\0') != std::string_view::npos) refuse("contains a NUL byte");
    if (roots_.empty()) refuse("cannot be used: the agent has no allowed roots");
    fs::path p(requested);
    if (p.is_relative()) p = roots_.front() / p;
    auto full = resolved(p);
    if (!inside_a_root(full)) refuse("is outside the allowed roots (" + roots_text(roots_) + "); refused");
    if (contains_symlink(full)) refuse("goes through a symlink that does not resolve; refused");
    return full;
}

}  // namespace orbitmesh::engine::agent
