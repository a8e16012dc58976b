#include "engine/workflow/source_node.hpp"

#include <charconv>
#include <cmath>
#include <limits>

namespace orbitmesh::engine {

namespace {

bool is_null_text(std::string_view t) {
    return t.empty() || t == "~" || t == "null" || t == "Null" || t == "NULL";
}

std::optional<bool> bool_text(std::string_view t) {
    if (t == "true" || t == "True" || t == "TRUE") return true;
    if (t == "false" || t == "False" || t == "FALSE") return false;
    return std::nullopt;
}

std::optional<core::json> int_text(std::string_view t) {
    int base = 10;
    std::string_view digits = t;
    bool negative = false;
    if (!digits.empty() && (digits[0] == '-' || digits[0] == '+')) {
        negative = digits[0] == '-';
        digits.remove_prefix(1);
    }
    if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'o')) {
        base = digits[1] == 'x' ? 16 : 8;
        digits.remove_prefix(2);
    }
    if (digits.empty()) return std::nullopt;
    std::uint64_t v = 0;
    auto res = std::from_chars(digits.data(), digits.data() + digits.size(), v, base);
    if (res.ptr != digits.data() + digits.size()) return std::nullopt;
    if (res.ec == std::errc::result_out_of_range || v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        return std::nullopt;  // decimal: read as a float below
    const auto i = static_cast<std::int64_t>(v);
    return core::json(negative ? -i : i);
}

std::optional<core::json> float_text(std::string_view t) {
    std::string_view body = t;
    if (!body.empty() && (body[0] == '-' || body[0] == '+')) body.remove_prefix(1);
    const bool negative = !t.empty() && t[0] == '-';
    if (body == ".inf" || body == ".Inf" || body == ".INF")
        return core::json(negative ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity());
    if (t == ".nan" || t == ".NaN" || t == ".NAN") return core::json(std::numeric_limits<double>::quiet_NaN());
    bool digit = false, dot = false, exponent = false;
    for (std::size_t i = 0; i < body.size(); ++i) {
        const char c = body[i];
        if (c >= '0' && c <= '9') digit = true;
        else if (c == '.' && !dot && !exponent) dot = true;
        else if ((c == 'e' || c == 'E') && digit && !exponent) {
            exponent = true;
            if (i + 1 < body.size() && (body[i + 1] == '+' || body[i + 1] == '-')) ++i;
            if (i + 1 >= body.size()) return std::nullopt;
        } else return std::nullopt;
    }
    if (!digit) return std::nullopt;
    double d = 0;
    auto res = std::from_chars(body.data(), body.data() + body.size(), d);
    if (res.ec != std::errc()) return std::nullopt;  // out of range stays text
    return core::json(negative ? -d : d);
}

}  // namespace

const source_node* source_node::find(std::string_view k) const noexcept {
    if (type != kind::mapping) return nullptr;
    for (const auto& c : children)
        if (c.key == k) return &c;
    return nullptr;
}

std::string describe(const source_node& n) {
    switch (n.type) {
    case source_node::kind::null: return "null";
    case source_node::kind::sequence: return "a list";
    case source_node::kind::mapping: return "a map";
    default: break;
    }
    const core::json v = scalar_value(n);
    if (v.is_boolean()) return "a boolean";
    if (v.is_number()) return "a number";
    if (v.is_null()) return "null";
    return "a string";
}

core::json scalar_value(const source_node& n) {
    if (n.type != source_node::kind::scalar) return nullptr;
    if (n.quoted) return n.text;
    if (is_null_text(n.text)) return nullptr;
    if (auto b = bool_text(n.text)) return *b;
    if (auto i = int_text(n.text)) return *i;
    if (auto f = float_text(n.text)) return *f;
    return n.text;
}

core::json to_json(const source_node& n) {
    switch (n.type) {
    case source_node::kind::sequence: {
        core::json out = core::json::array();
        for (const auto& c : n.children) out.push_back(to_json(c));
        return out;
    }
    case source_node::kind::mapping: {
        core::json out = core::json::object();
        for (const auto& c : n.children) out[c.key] = to_json(c);
        return out;
    }
    default: return scalar_value(n);
    }
}

std::size_t count_nodes(const source_node& n) {
    std::size_t total = 1;
    for (const auto& c : n.children) total += count_nodes(c);
    return total;
}

void tree_assembler::open(source_node::kind k, core::source_pos pos) {
    if (stack_.size() >= limits_.max_depth)
        throw source_error(pos, "nesting is deeper than " + std::to_string(limits_.max_depth) + " levels",
                           "flatten the structure; deeper files are refused to protect the loader");
    if (++nodes_ > limits_.max_nodes)
        throw source_error(pos, "file has more than " + std::to_string(limits_.max_nodes) + " values",
                           "split the workflow into sub-workflows");
    frame f;
    f.node.type = k;
    f.node.pos = pos;
    stack_.push_back(std::move(f));
}

bool tree_assembler::wants_key() const noexcept {
    return !stack_.empty() && stack_.back().node.type == source_node::kind::mapping && !stack_.back().has_key;
}

void tree_assembler::key(std::string k, core::source_pos pos) {
    frame& f = stack_.back();
    f.key = std::move(k);
    f.key_pos = pos;
    f.has_key = true;
}

source_node& tree_assembler::value(source_node n, std::size_t weight, bool from_alias) {
    if (from_alias && (alias_nodes_ += weight) > limits_.max_alias_nodes)
        throw source_error(n.pos, "YAML aliases expand to more than " + std::to_string(limits_.max_alias_nodes) + " values",
                           "this looks like an alias bomb; write the values out or use fewer nested aliases");
    if ((nodes_ += weight) > limits_.max_nodes)
        throw source_error(n.pos, "file has more than " + std::to_string(limits_.max_nodes) + " values",
                           "split the workflow into sub-workflows");
    return attach(std::move(n));
}

source_node& tree_assembler::close() {
    source_node n = std::move(stack_.back().node);
    stack_.pop_back();
    return attach(std::move(n));
}

source_node& tree_assembler::attach(source_node n) {
    if (stack_.empty()) {
        root_ = std::move(n);
        return *root_;
    }
    frame& f = stack_.back();
    if (f.node.type == source_node::kind::mapping) {
        n.key = std::move(f.key);
        n.key_pos = f.key_pos;
        f.has_key = false;
    }
    f.node.children.push_back(std::move(n));
    return f.node.children.back();
}

}  // namespace orbitmesh::engine
