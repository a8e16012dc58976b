#include "engine/workflow/build_context.hpp"

#include <algorithm>
#include <unordered_map>

#include "core/duration.hpp"
#include "core/expression_template.hpp"
#include "core/workflow_suggest.hpp"

namespace orbitmesh::engine {

namespace {

// Where column `column` (1-based, within the scalar's text) is in the file, when the scalar
// sits on one line; otherwise the scalar's own position with the column unknown.
core::source_pos position_in(const source_node& n, int column) {
    if (n.text.find('\n') != std::string::npos || n.pos.column <= 0) return {n.pos.line, 0};
    return {n.pos.line, n.pos.column + (n.quoted ? 1 : 0) + column - 1};
}

void report_duplicates(const source_node& map, diagnostics_sink& sink, const std::string& owner) {
    std::unordered_map<std::string_view, const source_node*> seen;
    seen.reserve(map.children.size());
    for (const auto& c : map.children) {
        auto [it, inserted] = seen.emplace(c.key, &c);
        if (!inserted)
            sink.error(c.key_pos, "key " + in_quotes(c.key) + " appears twice in " + owner + " (first at line " +
                                      std::to_string(it->second->key_pos.line) + ")",
                       "remove one of them; YAML keys must be unique");
    }
}

}  // namespace

std::string in_quotes(std::string_view s) {
    // Appends only: GCC 12 warns falsely (-Wrestrict) on `"\"" + std::string(s)`.
    std::string out;
    out.reserve(s.size() + 2);
    out += '"';
    out += s;
    out += '"';
    return out;
}

void diagnostics_sink::error(core::source_pos at, std::string message, std::string hint) {
    list_.push_back({file_, at.line, at.column, core::severity::error, std::move(message), std::move(hint)});
}

void diagnostics_sink::warning(core::source_pos at, std::string message, std::string hint) {
    list_.push_back({file_, at.line, at.column, core::severity::warning, std::move(message), std::move(hint)});
}

void diagnostics_sink::add(core::diagnostic d) {
    d.file = file_;
    list_.push_back(std::move(d));
}

void check_value(const source_node& n, diagnostics_sink& sink, const std::string& what) {
    if (n.is_scalar()) {
        if (n.text.find("${{") == std::string::npos) return;
        if (auto d = core::check_template(n.text)) {
            const core::source_pos at = position_in(n, d->column);
            sink.error(at, what + ": " + d->message, d->hint);
        }
        return;
    }
    if (n.is_mapping()) report_duplicates(n, sink, what);
    for (const auto& c : n.children) check_value(c, sink, what);
}

void check_expression_field(const source_node& n, diagnostics_sink& sink, const std::string& what) {
    if (!n.is_scalar()) {
        sink.error(n.pos, what + " must be an expression, not " + describe(n), "write e.g. inputs.count > 3");
        return;
    }
    if (sink.original_dialect()) return;  // what our language cannot parse is JavaScript there
    if (auto d = core::check_expression_field(n.text)) sink.error(position_in(n, d->column), what + ": " + d->message, d->hint);
}

map_reader::map_reader(const source_node& map, diagnostics_sink& sink, std::string owner)
    : map_(map), sink_(sink), owner_(std::move(owner)) {
    report_duplicates(map_, sink_, owner_);
}

void map_reader::error(const source_node& at, std::string_view key, std::string message, std::string hint) {
    sink_.error(at.pos.line > 0 ? at.pos : at.key_pos, owner_ + ": " + std::string(key) + " " + message, std::move(hint));
}

const source_node* map_reader::get(std::string_view key) {
    const source_node* n = map_.find(key);
    if (n != nullptr && std::find(read_.begin(), read_.end(), key) == read_.end()) read_.push_back(n->key);
    return n;
}

std::optional<std::string> map_reader::text(std::string_view key) {
    const source_node* n = get(key);
    if (n == nullptr || n->is_null()) return std::nullopt;
    if (!n->is_scalar()) {
        error(*n, key, "must be a string, not " + describe(*n));
        return std::nullopt;
    }
    return n->text;
}

std::optional<std::int64_t> map_reader::duration(std::string_view key) {
    const source_node* n = get(key);
    if (n == nullptr || n->is_null()) return std::nullopt;
    if (n->is_scalar()) {
        if (scalar_value(*n).is_number() && !n->quoted) {
            error(*n, key, in_quotes(n->text) + " is a bare number, which is ambiguous",
                  "write the unit: " + n->text + "s, " + n->text + "m or " + n->text + "ms");
            return std::nullopt;
        }
        if (auto ms = core::parse_duration(n->text)) return *ms;
    }
    error(*n, key, "is not a duration: " + (n->is_scalar() ? in_quotes(n->text) : describe(*n)),
          "use 250ms, 30s, 5m, 1h, 2d, 1m30s or HH:MM:SS");
    return std::nullopt;
}

std::optional<bool> map_reader::boolean(std::string_view key) {
    const source_node* n = get(key);
    if (n == nullptr || n->is_null()) return std::nullopt;
    const core::json v = scalar_value(*n);
    if (v.is_boolean()) return v.get<bool>();
    if (n->is_scalar() && (n->text == "yes" || n->text == "on")) return true;
    if (n->is_scalar() && (n->text == "no" || n->text == "off")) return false;
    error(*n, key, "must be true or false, not " + (n->is_scalar() ? in_quotes(n->text) : describe(*n)));
    return std::nullopt;
}

std::optional<std::int64_t> map_reader::integer(std::string_view key, std::int64_t min, std::int64_t max) {
    const source_node* n = get(key);
    if (n == nullptr || n->is_null()) return std::nullopt;
    const core::json v = scalar_value(*n);
    if (v.is_number_integer() && v.get<std::int64_t>() >= min && v.get<std::int64_t>() <= max) return v.get<std::int64_t>();
    error(*n, key, "must be a whole number from " + std::to_string(min) + " to " + std::to_string(max) + ", not " +
                       (n->is_scalar() ? in_quotes(n->text) : describe(*n)));
    return std::nullopt;
}

std::vector<std::string> map_reader::text_list(std::string_view key) {
    const source_node* n = get(key);
    std::vector<std::string> out;
    if (n == nullptr || n->is_null()) return out;
    if (n->is_scalar()) return {n->text};
    if (!n->is_sequence()) {
        error(*n, key, "must be a list of strings, not " + describe(*n));
        return out;
    }
    for (const auto& item : n->children) {
        if (item.is_scalar()) out.push_back(item.text);
        else error(item, key, "must hold only strings, not " + describe(item));
    }
    return out;
}

bool map_reader::require(std::string_view key, std::string_view example) {
    const source_node* n = map_.find(key);
    if (n != nullptr && !n->is_null()) return true;
    sink_.error(n != nullptr ? n->key_pos : map_.pos, owner_ + " is missing " + in_quotes(key), "add " + std::string(example));
    return false;
}

void map_reader::finish(const std::vector<std::string_view>& known, std::string (*elsewhere)(std::string_view)) {
    for (const auto& c : map_.children) {
        if (std::find(read_.begin(), read_.end(), c.key) != read_.end()) continue;
        const std::string why = elsewhere != nullptr ? elsewhere(c.key) : std::string();
        if (!why.empty()) {
            sink_.warning(c.key_pos, "key " + in_quotes(c.key) + " has no effect in " + owner_, why);
            continue;
        }
        std::string hint = core::did_you_mean(c.key, known);
        sink_.warning(c.key_pos, "unknown key " + in_quotes(c.key) + " in " + owner_, hint.empty() ? "it is ignored" : hint);
    }
}

}  // namespace orbitmesh::engine
