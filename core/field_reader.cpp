#include "core/field_reader.hpp"

#include <cmath>

#include "core/workflow_suggest.hpp"

namespace orbitmesh::core {

namespace {

constexpr std::size_t max_key_in_path = 40;  // user-chosen keys (tags) stay short in errors

std::string range_text(std::int64_t min, std::int64_t max) {
    const bool no_min = min <= std::numeric_limits<int>::min();
    const bool no_max = max == field_reader::int_max || max == std::numeric_limits<std::int64_t>::max();
    if (no_min && no_max) return "an integer";
    if (no_max) return min == 0 ? "a non-negative integer" : "an integer of at least " + std::to_string(min);
    return "an integer from " + std::to_string(min) + " to " + std::to_string(max);
}

std::string number_text(double v) {
    std::string s = std::to_string(v);
    while (s.size() > 1 && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
    return s;
}

}  // namespace

std::string_view describe_type(const json& v) noexcept {
    switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::object: return "a map";
    case json::value_t::array: return "an array";
    case json::value_t::string: return "a string";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "an integer";
    case json::value_t::number_float: return "a number";
    case json::value_t::binary: return "binary data";
    default: return "an unreadable value";
    }
}

field_reader::field_reader(json& value, std::string_view what, error_kind kind)
    : field_reader(&value, &value, what, kind, {}) {}

field_reader::field_reader(const json& value, std::string_view what, error_kind kind)
    : field_reader(&value, nullptr, what, kind, {}) {}

field_reader::field_reader(const json* value, json* writable, std::string_view what, error_kind kind, std::string path)
    : value_(value), writable_(writable), what_(what), kind_(kind), path_(std::move(path)) {
    if (value_->is_object()) return;
    if (path_.empty()) throw error(kind_, std::string(what_) + " must be a map, got " + std::string(describe_type(*value_)));
    auto name = path_.substr(0, path_.size() - 1);  // "load." -> "load"
    throw error(kind_, std::string(what_) + " field \"" + name + "\" must be a map, got " +
                           std::string(describe_type(*value_)));
}

std::string printable(std::string_view s, std::size_t max) {
    std::string out(s.substr(0, max));
    for (char& c : out)
        if (c < 0x20 || c > 0x7e) c = '?';
    return out;
}

std::string field_reader::path_of(std::string_view key) const { return path_ + printable(key, max_key_in_path); }

void field_reader::fail(std::string_view key, const std::string& problem) const {
    throw error(kind_, std::string(what_) + " field \"" + path_of(key) + "\" " + problem);
}

void field_reader::wrong_type(std::string_view key, std::string_view expected, const json& got) const {
    fail(key, "must be " + std::string(expected) + ", got " + std::string(describe_type(got)));
}

void field_reader::missing(std::string_view key) const {
    throw error(kind_, std::string(what_) + " is missing field \"" + path_of(key) + "\"");
}

std::vector<std::string> field_reader::keys() const {
    std::vector<std::string> out;
    for (const auto& [key, _] : value_->get_ref<const json::object_t&>()) out.push_back(key);
    return out;
}

void field_reader::track_reads() {
    if (!read_) read_ = std::make_shared<std::set<std::string, std::less<>>>();
}

void field_reader::refuse_unread() const {
    if (!read_) return;
    std::string unknown, known, first;
    std::size_t n = 0;
    for (const auto& [k, v] : value_->items())
        if (!v.is_null() && !read_->count(k)) {
            if (n == 0) first = k;
            unknown += (n++ ? ", \"" : "\"") + path_of(k) + "\"";
        }
    if (n == 0) return;
    std::vector<std::string_view> names(read_->begin(), read_->end());
    for (const auto& k : names) known += (known.empty() ? "" : ", ") + std::string(k);
    const std::string where = path_.empty() ? "" : " of " + path_.substr(0, path_.size() - 1);
    // One misspelt field: the likely meant one says more than the whole list.
    std::string hint = n == 1 ? did_you_mean(first, names) : std::string();
    throw error(kind_, std::string(what_) + (n == 1 ? " field " : " fields ") + unknown + (n == 1 ? " is" : " are") +
                           " not supported (" + (hint.empty() ? "known fields" + where + ": " + known : hint) + ")");
}

const json* field_reader::find(std::string_view key) const {
    if (read_) read_->emplace(key);
    const auto& obj = value_->get_ref<const json::object_t&>();
    auto it = obj.find(key);
    return it == obj.end() || it->second.is_null() ? nullptr : &it->second;
}

json* field_reader::find_writable(std::string_view key) const {
    if (!writable_) return nullptr;
    auto& obj = writable_->get_ref<json::object_t&>();
    auto it = obj.find(key);
    return it == obj.end() ? nullptr : &it->second;
}

bool field_reader::has(std::string_view key) const { return find(key) != nullptr; }

std::optional<std::string> field_reader::maybe_text(std::string_view key) {
    const json* v = find(key);
    if (!v) return std::nullopt;
    if (!v->is_string()) wrong_type(key, "a string", *v);
    if (json* w = find_writable(key)) return std::move(w->get_ref<std::string&>());
    return v->get<std::string>();
}

std::string field_reader::text(std::string_view key) {
    if (auto v = maybe_text(key)) return std::move(*v);
    missing(key);
}

std::optional<std::int64_t> field_reader::maybe_integer(std::string_view key, std::int64_t min, std::int64_t max) {
    const json* v = find(key);
    if (!v) return std::nullopt;
    if (v->is_number_unsigned()) {
        auto u = v->get<std::uint64_t>();
        if (u > static_cast<std::uint64_t>(max)) fail(key, "must be " + range_text(min, max) + ", got " + std::to_string(u));
        return static_cast<std::int64_t>(u);
    }
    if (!v->is_number_integer()) wrong_type(key, range_text(min, max), *v);
    auto i = v->get<std::int64_t>();
    if (i < min || i > max) fail(key, "must be " + range_text(min, max) + ", got " + std::to_string(i));
    return i;
}

std::int64_t field_reader::integer(std::string_view key, std::int64_t min, std::int64_t max) {
    if (auto v = maybe_integer(key, min, max)) return *v;
    missing(key);
}

std::optional<double> field_reader::maybe_number(std::string_view key, double min, double max) {
    const json* v = find(key);
    if (!v) return std::nullopt;
    if (!v->is_number()) wrong_type(key, "a number", *v);
    double d = v->get<double>();
    if (!std::isfinite(d) || d < min || d > max)
        fail(key, "must be a number from " + number_text(min) + " to " + number_text(max) + ", got " + number_text(d));
    return d;
}

double field_reader::number(std::string_view key, double min, double max) {
    if (auto v = maybe_number(key, min, max)) return *v;
    missing(key);
}

std::optional<bool> field_reader::maybe_boolean(std::string_view key) {
    const json* v = find(key);
    if (!v) return std::nullopt;
    if (!v->is_boolean()) wrong_type(key, "true or false", *v);
    return v->get<bool>();
}

json field_reader::value(std::string_view key) {
    const json* v = find(key);
    if (!v) return json();
    if (json* w = find_writable(key)) return std::move(*w);
    return *v;
}

json field_reader::required_value(std::string_view key) {
    if (!has(key)) missing(key);
    return value(key);
}

std::optional<field_reader> field_reader::maybe_object(std::string_view key) {
    const json* v = find(key);
    if (!v) return std::nullopt;
    if (!v->is_object()) wrong_type(key, "a map", *v);
    return field_reader(v, find_writable(key), what_, kind_, path_of(key) + ".");
}

field_reader field_reader::object(std::string_view key) {
    if (auto r = maybe_object(key)) return std::move(*r);
    missing(key);
}

std::vector<field_reader> field_reader::objects(std::string_view key) {
    const json* v = find(key);
    if (!v) missing(key);
    if (!v->is_array()) wrong_type(key, "an array of maps", *v);
    json* w = find_writable(key);
    std::vector<field_reader> out;
    out.reserve(v->size());
    for (std::size_t i = 0; i < v->size(); ++i) {
        const json& item = (*v)[i];
        auto path = path_of(key) + "[" + std::to_string(i) + "]";
        if (!item.is_object()) fail(key, "must be an array of maps, but item " + std::to_string(i) + " is " +
                                             std::string(describe_type(item)));
        out.push_back(field_reader(&item, w ? &(*w)[i] : nullptr, what_, kind_, path + "."));
    }
    return out;
}

std::optional<std::vector<std::string>> field_reader::maybe_strings(std::string_view key) {
    const json* v = find(key);
    if (!v) return std::nullopt;
    if (!v->is_array()) wrong_type(key, "an array of strings", *v);
    std::vector<std::string> out;
    out.reserve(v->size());
    for (std::size_t i = 0; i < v->size(); ++i) {
        const json& item = (*v)[i];
        if (!item.is_string())
            fail(key, "must be an array of strings, but item " + std::to_string(i) + " is " +
                          std::string(describe_type(item)));
        out.push_back(item.get<std::string>());
    }
    return out;
}

std::vector<std::string> field_reader::strings(std::string_view key) {
    if (auto v = maybe_strings(key)) return std::move(*v);
    missing(key);
}

std::optional<std::map<std::string, std::string>> field_reader::maybe_string_map(std::string_view key) {
    const json* v = find(key);
    if (!v) return std::nullopt;
    if (!v->is_object()) wrong_type(key, "a map of strings", *v);
    std::map<std::string, std::string> out;
    for (const auto& [k, item] : v->items()) {
        if (!item.is_string())
            throw error(kind_, std::string(what_) + " field \"" + path_of(key) + "." + printable(k, max_key_in_path) +
                                   "\" must be a string, got " + std::string(describe_type(item)));
        out.emplace(k, item.get<std::string>());
    }
    return out;
}

std::map<std::string, std::string> field_reader::string_map(std::string_view key) {
    if (auto v = maybe_string_map(key)) return std::move(*v);
    missing(key);
}

}  // namespace orbitmesh::core
