// Built-in functions of the expression language (SPEC §4). Pure: no I/O, sizes budgeted.
#include "core/expression_functions.hpp"

#include <algorithm>
#include <cctype>

namespace orbitmesh::core {

namespace {

constexpr function_info functions[] = {
    {"len", 1, 1},       {"contains", 2, 2}, {"starts_with", 2, 2}, {"ends_with", 2, 2},
    {"lower", 1, 1},     {"upper", 1, 1},    {"join", 1, 2},        {"split", 1, 2},
    {"to_json", 1, 1},   {"from_json", 1, 1}, {"default", 2, 2},
};

struct call {
    const function_info& f;
    std::vector<json>& args;
    expression_budget& budget;
    std::size_t offset;

    [[noreturn]] void fail(std::string reason, std::string hint = {}) const {
        budget.fail(offset, std::string(f.name) + "(): " + reason, std::move(hint));
    }
    const std::string& text(std::size_t i, const char* what) const {
        if (!args[i].is_string()) fail(std::string(what) + " must be a string, got " + args[i].type_name());
        return args[i].get_ref<const std::string&>();
    }
};

std::size_t utf8_length(const std::string& s) {
    return static_cast<std::size_t>(std::count_if(s.begin(), s.end(), [](char c) {
        return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    }));
}

json fn_len(const call& c) {
    const json& v = c.args[0];
    if (v.is_string()) return utf8_length(v.get_ref<const std::string&>());
    if (v.is_array() || v.is_object()) return v.size();
    if (v.is_null()) return 0;
    c.fail(std::string("needs a string, list or map, got ") + v.type_name());
}

json fn_contains(const call& c) {
    const json& hay = c.args[0];
    const json& needle = c.args[1];
    if (hay.is_null()) return false;
    if (hay.is_string()) return hay.get_ref<const std::string&>().find(c.text(1, "the text to find")) != std::string::npos;
    if (hay.is_object()) return hay.contains(c.text(1, "the key to find"));
    if (!hay.is_array()) c.fail(std::string("needs a string, list or map first, got ") + hay.type_name());
    c.budget.spend(c.offset, hay.size());
    return std::find(hay.begin(), hay.end(), needle) != hay.end();
}

json fn_affix(const call& c, bool at_start) {
    const std::string& s = c.text(0, "the first argument");
    const std::string& a = c.text(1, "the second argument");
    if (a.size() > s.size()) return false;
    return at_start ? s.compare(0, a.size(), a) == 0 : s.compare(s.size() - a.size(), a.size(), a) == 0;
}

json fn_case(const call& c, bool to_upper) {
    std::string s = c.text(0, "the argument");
    for (char& ch : s) {
        const auto u = static_cast<unsigned char>(ch);
        ch = static_cast<char>(to_upper ? std::toupper(u) : std::tolower(u));
    }
    return s;
}

json fn_join(const call& c) {
    if (!c.args[0].is_array()) c.fail(std::string("needs a list first, got ") + c.args[0].type_name());
    const std::string sep = c.args.size() > 1 ? c.text(1, "the separator") : std::string(",");
    c.budget.spend(c.offset, c.args[0].size());
    std::string out;
    bool first = true;
    for (const auto& item : c.args[0]) {
        if (!first) out += sep;
        first = false;
        out += stringify(item);
        c.budget.check_string(c.offset, out.size());
    }
    return out;
}

json fn_split(const call& c) {
    const std::string& s = c.text(0, "the text");
    const std::string sep = c.args.size() > 1 ? c.text(1, "the separator") : std::string(",");
    if (sep.empty()) c.fail("the separator must not be empty");
    json out = json::array();
    std::size_t start = 0;
    for (;;) {
        const std::size_t at = s.find(sep, start);
        out.push_back(s.substr(start, at == std::string::npos ? std::string::npos : at - start));
        c.budget.check_items(c.offset, out.size());
        if (at == std::string::npos) break;
        start = at + sep.size();
    }
    c.budget.spend(c.offset, out.size());
    return out;
}

json fn_to_json(const call& c) {
    std::string s = c.args[0].dump(-1, ' ', false, json::error_handler_t::replace);
    c.budget.check_string(c.offset, s.size());
    return s;
}

json fn_from_json(const call& c) {
    const std::string& s = c.text(0, "the argument");
    c.budget.spend(c.offset, s.size() / 64);
    constexpr int max_depth = 128;
    json::parser_callback_t guard = [&c](int depth, json::parse_event_t, json&) {
        if (depth > max_depth) c.fail("JSON nests deeper than " + std::to_string(max_depth) + " levels");
        return true;
    };
    try {
        return json::parse(s, guard);
    } catch (const json::parse_error& e) {
        c.fail("not valid JSON (byte " + std::to_string(e.byte) + ")", "pass a JSON text such as '{\"a\": 1}'");
    }
}

json fn_default(const call& c) {
    const json& v = c.args[0];
    const bool empty = v.is_null() || (v.is_string() && v.get_ref<const std::string&>().empty());
    return empty ? c.args[1] : v;
}

}  // namespace

void expression_budget::spend(std::size_t offset, std::size_t n) {
    steps_ += n;
    if (steps_ > limits_.max_steps)
        fail(offset, "evaluation budget of " + std::to_string(limits_.max_steps) + " steps exhausted",
             "simplify the expression or move the work into a job");
}

void expression_budget::check_string(std::size_t offset, std::size_t size) const {
    if (size > limits_.max_string)
        fail(offset, "result string of " + std::to_string(size) + " bytes exceeds the limit of " +
                         std::to_string(limits_.max_string) + " bytes");
}

void expression_budget::check_items(std::size_t offset, std::size_t items) const {
    if (items > limits_.max_items)
        fail(offset, "result with " + std::to_string(items) + " elements exceeds the limit of " +
                         std::to_string(limits_.max_items));
}

void expression_budget::fail(std::size_t offset, std::string reason, std::string hint) const {
    throw expression_error(text_, offset, std::move(reason), std::move(hint));
}

const function_info* find_function(std::string_view name) noexcept {
    for (const auto& f : functions)
        if (f.name == name) return &f;
    return nullptr;
}

std::vector<std::string_view> function_names() {
    std::vector<std::string_view> out;
    for (const auto& f : functions) out.push_back(f.name);
    return out;
}

json call_function(const function_info& f, std::vector<json>& args, expression_budget& budget, std::size_t offset) {
    const call c{f, args, budget, offset};
    const std::string_view n = f.name;
    if (n == "len") return fn_len(c);
    if (n == "contains") return fn_contains(c);
    if (n == "starts_with") return fn_affix(c, true);
    if (n == "ends_with") return fn_affix(c, false);
    if (n == "lower") return fn_case(c, false);
    if (n == "upper") return fn_case(c, true);
    if (n == "join") return fn_join(c);
    if (n == "split") return fn_split(c);
    if (n == "to_json") return fn_to_json(c);
    if (n == "from_json") return fn_from_json(c);
    return fn_default(c);
}

}  // namespace orbitmesh::core
