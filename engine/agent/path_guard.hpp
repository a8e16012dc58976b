#pragma once
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace orbitmesh::engine::agent {

/// Confines the file handlers to a set of directories. Immutable after construction; thread-safe.
class path_guard {
public:
    /// Roots are made absolute with symlinks resolved; missing roots are allowed (nothing inside
    /// them resolves until they exist).
    explicit path_guard(std::vector<std::filesystem::path> roots);

    /// Resolves `requested` (a relative path is taken from the first root) with `..` and symlinks
    /// resolved, and returns it when it lies inside a root. Throws core::error{invalid_input}
    /// naming `what` (the handler) when it escapes, e.g. through `../` or a symlink.
    std::filesystem::path resolve(std::string_view requested, std::string_view what) const;

    const std::vector<std::filesystem::path>& roots() const { return roots_; }

private:
    bool inside_a_root(const std::filesystem::path& p) const;
    std::vector<std::filesystem::path> roots_;
};

}  // namespace orbitmesh::engine::agent
