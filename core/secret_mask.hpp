#pragma once
// Secret values as they must never be shown: replaced by `***` wherever they appear in text a job
// produced (output lines, results, errors, progress). Pure logic: the agent masks before anything
// leaves it, the hub masks again before anything is stored or shown.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.hpp"

namespace orbitmesh::core {

inline constexpr std::size_t max_secrets_per_job = 64;
inline constexpr std::string_view secret_placeholder = "***";

/// A secret name is an environment variable name: [A-Za-z_][A-Za-z0-9_]*, at most 128 characters.
bool is_secret_name(std::string_view name) noexcept;

/// Replaces every occurrence of any of its values. A value spanning several lines is also
/// masked line by line, since output arrives one line at a time. Immutable once built; safe to
/// share between threads.
class secret_mask {
public:
    secret_mask() = default;
    explicit secret_mask(const std::vector<std::string>& values);

    bool empty() const noexcept { return needles_.empty(); }
    /// Masks `text` in place; true when anything was replaced.
    bool apply(std::string& text) const;
    /// Masks every string in `value`, object keys included, recursively.
    void apply(json& value) const;

private:
    std::vector<std::string> needles_;  // longest first, so a secret containing another masks whole
};

}  // namespace orbitmesh::core
