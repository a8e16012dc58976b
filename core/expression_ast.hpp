#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/json.hpp"

namespace orbitmesh::core {

enum class expr_op : std::uint8_t {
    negate, logical_not,                       // unary
    add, subtract, multiply, divide, modulo,   // arithmetic
    equal, not_equal, less, less_equal, greater, greater_equal, in,
    logical_and, logical_or, coalesce,
};

/// One node of a parsed expression. Children live in `args`, in source order:
/// unary [operand], binary [left, right], ternary [condition, then, else], member [object],
/// index [object, key], call [arguments...], list [items...], map [values...] with `keys`.
struct expr_node {
    enum class kind : std::uint8_t { literal, name, member, index, call, unary, binary, ternary, list, map };

    kind type = kind::literal;
    expr_op op = expr_op::add;   // unary and binary only
    std::uint16_t depth = 1;     // height of this subtree; bounded by the parser
    std::uint32_t offset = 0;    // 0-based position in the expression text
    json value;                  // literal
    std::string name;            // name, member, call
    std::vector<expr_node> args;
    std::vector<std::string> keys;  // map
};

}  // namespace orbitmesh::core
