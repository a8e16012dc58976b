#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/expression.hpp"
#include "core/workflow_diagnostic.hpp"

namespace orbitmesh::core {

/// A piece of a template string: literal text, or the source of one `${{ … }}`.
struct template_part {
    bool is_expression = false;
    std::string text;
    std::size_t offset = 0;  // where `text` starts in the template (0-based)
};

/// Splits a string at its `${{ … }}` parts; `$${{` is a literal `${{`; `${VAR}` stays text.
/// Throws core::expression_error for a `${{` without its `}}`.
std::vector<template_part> split_template(std::string_view text);

/// True when the string holds at least one `${{ … }}` to evaluate.
bool has_expressions(std::string_view text);

/// Replaces the `${{ … }}` of every string in `value`, through maps and lists (keys stay as
/// written). A string that is exactly one `${{ x }}` becomes x's value with its type; inside
/// other text the value is stringified. Throws core::expression_error.
json interpolate(const json& value, const json& context, const expression_limits& limits = {});

/// Parses a field that is an expression by nature (`condition`, `expression`, `collection`):
/// a bare expression, one whole `${{ … }}`, or the original format's `${ … }`. Every wrapper
/// is replaced by parentheses of the same width, so error columns stay true to the text.
expression parse_expression_field(std::string_view text, const expression_limits& limits = {});

/// The first syntax problem of a template string, as a diagnostic without file and line
/// (column counts from 1 within `text`), or nullopt when every `${{ … }}` parses.
std::optional<diagnostic> check_template(std::string_view text);
/// The same for an expression field.
std::optional<diagnostic> check_expression_field(std::string_view text);

}  // namespace orbitmesh::core
