#include "core/expression_template.hpp"

#include <algorithm>

namespace orbitmesh::core {

namespace {

bool starts_at(std::string_view s, std::size_t i, std::string_view what) {
    return s.compare(i, what.size(), what) == 0;
}

// Index just past a quoted string starting at `i`, or npos when it never closes.
std::size_t skip_quoted(std::string_view s, std::size_t i) {
    const char q = s[i];
    for (++i; i < s.size(); ++i) {
        if (s[i] == '\\') ++i;
        else if (s[i] == q) return i + 1;
    }
    return std::string_view::npos;
}

// Position of the `}` that closes an expression opened before `start`: the first `}` (or
// `}}` when `doubled`) outside quotes and outside the expression's own `{ … }` maps.
std::size_t find_close(std::string_view s, std::size_t start, bool doubled) {
    std::size_t depth = 0;
    for (std::size_t i = start; i < s.size();) {
        const char c = s[i];
        if (c == '\'' || c == '"') {
            i = skip_quoted(s, i);
            if (i == std::string_view::npos) return i;
            continue;
        }
        if (c == '{') ++depth;
        if (c == '}') {
            if (depth == 0 && (!doubled || starts_at(s, i, "}}"))) return i;
            if (depth > 0) --depth;
        }
        ++i;
    }
    return std::string_view::npos;
}

json interpolate_string(const std::string& s, const json& context, const expression_limits& limits) {
    if (s.find("${{") == std::string::npos) return s;
    const auto parts = split_template(s);
    if (parts.size() == 1 && parts[0].is_expression && parts[0].offset == 3 && s.size() == parts[0].text.size() + 5)
        return evaluate(parse_expression(parts[0].text, limits), context, limits);
    std::string out;
    for (const auto& p : parts) {
        out += p.is_expression ? stringify(evaluate(parse_expression(p.text, limits), context, limits)) : p.text;
        if (out.size() > limits.max_string)
            throw expression_error(s, p.offset, "interpolated string exceeds " + std::to_string(limits.max_string) + " bytes");
    }
    return out;
}

// The expression is shown trimmed, with the column counted in what is shown; the diagnostic's
// own column counts from the start of the whole string.
diagnostic to_diagnostic(const expression_error& e, std::string_view expr, std::size_t shift) {
    diagnostic d;
    d.column = static_cast<int>(shift + e.column());
    const std::size_t lead = std::min(expr.find_first_not_of(" \t\r\n"), expr.size());
    std::string_view body = expr.substr(lead);
    while (!body.empty() && (body.back() == ' ' || body.back() == '\n' || body.back() == '\t' || body.back() == '\r'))
        body.remove_suffix(1);
    std::string shown(body.substr(0, 80));
    for (char& c : shown)
        if (c == '\n' || c == '\t' || c == '\r') c = ' ';
    if (body.size() > 80) shown += "...";
    const std::size_t column = e.column() > lead ? e.column() - lead : 1;
    d.message = "expression \"" + shown + "\", column " + std::to_string(column) + ": " + e.reason();
    d.hint = e.hint();
    return d;
}

}  // namespace

std::vector<template_part> split_template(std::string_view s) {
    std::vector<template_part> parts;
    template_part literal;
    for (std::size_t i = 0; i < s.size();) {
        if (starts_at(s, i, "$${{")) {
            literal.text += "${{";
            i += 4;
        } else if (starts_at(s, i, "${{")) {
            const std::size_t close = find_close(s, i + 3, true);
            if (close == std::string_view::npos)
                throw expression_error(s, i, "\"${{\" is never closed", "end the expression with }}, or write $${{ for a literal ${{");
            if (!literal.text.empty()) parts.push_back(std::move(literal));
            literal = template_part{false, {}, close + 2};
            parts.push_back(template_part{true, std::string(s.substr(i + 3, close - i - 3)), i + 3});
            i = close + 2;
        } else {
            if (literal.text.empty()) literal.offset = i;
            literal.text += s[i++];
        }
    }
    if (!literal.text.empty()) parts.push_back(std::move(literal));
    return parts;
}

bool has_expressions(std::string_view text) {
    for (std::size_t i = text.find("${{"); i != std::string_view::npos; i = text.find("${{", i + 3))
        if (i == 0 || text[i - 1] != '$') return true;
    return false;
}

json interpolate(const json& value, const json& context, const expression_limits& limits) {
    if (value.is_string()) return interpolate_string(value.get_ref<const std::string&>(), context, limits);
    if (value.is_array()) {
        json out = json::array();
        for (const auto& v : value) out.push_back(interpolate(v, context, limits));
        return out;
    }
    if (value.is_object()) {
        json out = json::object();
        for (auto it = value.begin(); it != value.end(); ++it) out[it.key()] = interpolate(it.value(), context, limits);
        return out;
    }
    return value;
}

expression parse_expression_field(std::string_view text, const expression_limits& limits) {
    std::string s(text);
    for (std::size_t i = 0; i < s.size();) {
        if (s[i] == '\'' || s[i] == '"') {
            i = skip_quoted(s, i);
            if (i == std::string::npos) break;  // the parser reports the open string
            continue;
        }
        const bool doubled = starts_at(s, i, "${{");
        if (!doubled && !starts_at(s, i, "${")) {
            ++i;
            continue;
        }
        const std::size_t open = doubled ? 3 : 2;
        const std::size_t close = find_close(s, i + open, doubled);
        if (close == std::string::npos)
            throw expression_error(text, i, std::string("\"") + (doubled ? "${{" : "${") + "\" is never closed",
                                   doubled ? "end it with }}" : "end it with }");
        s.replace(i, open, doubled ? "  (" : " (");
        s.replace(close, doubled ? 2 : 1, doubled ? ") " : ")");
        i = close + (doubled ? 2 : 1);
    }
    return parse_expression(s, limits);
}

std::optional<diagnostic> check_template(std::string_view text) {
    std::vector<template_part> parts;
    try {
        parts = split_template(text);
    } catch (const expression_error& e) {
        return to_diagnostic(e, text, 0);
    }
    for (const auto& p : parts) {
        if (!p.is_expression) continue;
        try {
            parse_expression(p.text);
        } catch (const expression_error& e) {
            return to_diagnostic(e, p.text, p.offset);
        }
    }
    return std::nullopt;
}

std::optional<diagnostic> check_expression_field(std::string_view text) {
    try {
        parse_expression_field(text);
    } catch (const expression_error& e) {
        return to_diagnostic(e, text, 0);
    }
    return std::nullopt;
}

}  // namespace orbitmesh::core
