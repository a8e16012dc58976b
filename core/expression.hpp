#pragma once
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/expression_ast.hpp"
#include "core/expression_error.hpp"
#include "core/json.hpp"

namespace orbitmesh::core {

/// Bounds that keep hostile expressions cheap (SPEC §4: "a step/size budget").
struct expression_limits {
    std::size_t max_text = 64 * 1024;       // characters of expression source
    std::size_t max_nesting = 128;          // parentheses, lists, maps, unary chains
    std::size_t max_tree_depth = 256;       // height of the parsed tree (long a+b+c… chains)
    std::size_t max_steps = 100'000;        // nodes evaluated, function work included
    std::size_t max_string = 1024 * 1024;   // bytes in any string produced
    std::size_t max_items = 100'000;        // elements in any list or map produced
};

/// A parsed expression: immutable, cheap to copy (shares its tree), safe to use from many threads.
class expression {
public:
    const std::string& source() const noexcept { return source_; }
    const expr_node& root() const noexcept { return *root_; }

private:
    friend expression parse_expression(std::string_view text, const expression_limits& limits);
    std::string source_;
    std::shared_ptr<const expr_node> root_;
};

/// Parses a bare expression (`inputs.count > 3 && vars.env == 'prod'`).
/// Throws core::expression_error (a core::error{invalid_input}) with the column of the problem.
expression parse_expression(std::string_view text, const expression_limits& limits = {});

/// Evaluates against a context object with `inputs`, `vars`, `steps`, `run`, `item`, `index`
/// and bare variables at top level. Pure: no I/O. Throws core::expression_error when a value has
/// the wrong type or the budget of `limits` runs out.
json evaluate(const expression& e, const json& context, const expression_limits& limits = {});

/// JavaScript-like truth: null, false, 0, NaN and "" are false; everything else is true.
bool truthy(const json& v) noexcept;

/// Text form used inside strings: strings as they are, everything else as compact JSON.
std::string stringify(const json& v);

/// Step ids the expression reads through `steps.ID…` or `steps['ID']…`, in order of appearance.
std::vector<std::string> referenced_steps(const expression& e);

}  // namespace orbitmesh::core
