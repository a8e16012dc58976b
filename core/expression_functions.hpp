#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/expression.hpp"

namespace orbitmesh::core {

/// Counts evaluation work and result sizes against expression_limits; one per evaluation.
class expression_budget {
public:
    expression_budget(std::string_view text, const expression_limits& limits) : text_(text), limits_(limits) {}

    /// Spends `n` steps; throws once the budget is gone.
    void spend(std::size_t offset, std::size_t n = 1);
    /// Throws when a string of `size` bytes or a list/map of `items` elements would be too big.
    void check_string(std::size_t offset, std::size_t size) const;
    void check_items(std::size_t offset, std::size_t items) const;
    [[noreturn]] void fail(std::size_t offset, std::string reason, std::string hint = {}) const;

private:
    std::string_view text_;
    const expression_limits& limits_;
    std::size_t steps_ = 0;
};

struct function_info {
    std::string_view name;
    std::size_t min_args;
    std::size_t max_args;
};

/// The built-in function called `name`, or nullptr.
const function_info* find_function(std::string_view name) noexcept;
std::vector<std::string_view> function_names();

/// Calls a built-in with already evaluated arguments (count checked by the parser).
/// `offset` places errors at the call in the expression text.
json call_function(const function_info& f, std::vector<json>& args, expression_budget& budget, std::size_t offset);

}  // namespace orbitmesh::core
