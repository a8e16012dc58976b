// The original's `${path}` left as text in a file of our format: a warning, since nothing would
// otherwise say why a payload reads "${input.service_name}" at run time.
#include "engine/workflow/original_literals.hpp"

#include <algorithm>
#include <cctype>

namespace orbitmesh::engine {

namespace {

// Shell or JavaScript text, and the fields that are expressions by nature (SPEC §4 accepts the
// original's `${path}` there): none of them is a literal left behind.
const std::vector<std::string_view> code_keys = {"run", "script", "code", "condition", "expression", "collection"};

/// `input.service_name`, `steps.build.output`: a name, then at least one `.name`.
bool dotted_path(std::string_view s) {
    if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
    bool dot = false;
    char last = 0;
    for (char c : s) {
        if (c == '.') dot = true;
        else if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
        if (c == '.' && last == '.') return false;
        last = c;
    }
    return dot && last != '.';
}

/// The first `${path}` of the text (not `${{`, not `$${`), as the path; "" when there is none.
std::string first_literal(const std::string& text) {
    for (auto i = text.find("${"); i != std::string::npos; i = text.find("${", i + 2)) {
        if ((i > 0 && text[i - 1] == '$') || text.compare(i, 3, "${{") == 0) continue;
        auto close = text.find('}', i + 2);
        if (close == std::string::npos) return {};
        auto inner = text.substr(i + 2, close - i - 2);
        inner.erase(0, inner.find_first_not_of(' '));
        inner.erase(inner.find_last_not_of(' ') + 1);
        if (dotted_path(inner)) return inner;
    }
    return {};
}

void scan_value(const source_node& n, const std::string& step, const std::string& field, diagnostics_sink& sink) {
    if (n.is_scalar()) {
        auto path = first_literal(n.text);
        if (path.empty()) return;
        sink.warning(n.pos,
                     "step \"" + step + "\" " + field + ": \"${" + path + "}\" is the original format's expression; this file " +
                         "is read in OrbitMesh's format (it writes ${{ … }}), so it stays literal text",
                     "write ${{ " + path + " }}");
        return;
    }
    for (const auto& c : n.children) scan_value(c, step, field, sink);
}

void scan_steps(const source_node& list, diagnostics_sink& sink) {
    if (!list.is_sequence()) return;
    for (const auto& step : list.children) {
        if (!step.is_mapping()) continue;
        const auto* id = step.find("id");
        const std::string name = id && id->is_scalar() ? id->text : "?";
        for (const auto& c : step.children) {
            if (std::find(code_keys.begin(), code_keys.end(), c.key) != code_keys.end()) continue;
            if (is_original_step_list(c.key) && c.is_sequence())
                scan_steps(c, sink);
            else if (c.key == "compensation" && c.is_mapping())
                for (const auto& k : c.children) {
                    if (k.key != "run") scan_value(k, name, "compensation " + k.key, sink);
                }
            else if (c.key != "compensation")
                scan_value(c, name, c.key, sink);
        }
    }
}

}  // namespace

void warn_original_literals(const source_node& root, diagnostics_sink& sink) {
    if (!root.is_mapping()) return;
    if (const auto* steps = root.find("steps")) scan_steps(*steps, sink);
}

bool is_original_step_list(std::string_view key) {
    return key == "steps" || key == "branches" || key == "then" || key == "else" || key == "loop_steps";
}

}  // namespace orbitmesh::engine
