// `workflow validate` on the original dialect: which engine each field uses, JavaScript syntax.
#include "engine/workflow/javascript_review.hpp"

#include <algorithm>

namespace orbitmesh::engine {

namespace {

struct js_item {
    const core::workflow_step* step;
    const core::js_field* field;  // null for a script step
};

std::string shorten(const std::string& s) {
    std::string out;
    for (char c : s) out += (c == '\n' || c == '\t') ? ' ' : c;
    return out.size() > 60 ? out.substr(0, 57) + "..." : out;
}

}  // namespace

std::vector<engine_note> review_javascript(workflow_check& check, const js_engine& engine) {
    std::vector<engine_note> notes;
    const auto& wf = check.workflow;
    std::vector<js_item> items;
    core::for_each_step(wf.steps, [&](const core::workflow_step& s) {
        if (s.type == core::step_type::script) items.push_back({&s, nullptr});
        for (const auto& f : s.js) items.push_back({&s, &f});
    });
    if (wf.original_dialect.empty() && items.empty()) return notes;
    std::size_t scripts = std::count_if(items.begin(), items.end(), [](const js_item& i) { return i.field == nullptr; });
    std::string head = wf.original_dialect.empty() ? "" : "read as the original OrbitMesh format (" + wf.original_dialect + "): ";
    head += std::to_string(items.size() - scripts) + " ${…} evaluated by JavaScript, every other one by the OrbitMesh expression language; " +
            std::to_string(scripts) + " script step" + (scripts == 1 ? "" : "s") + " in JavaScript";
    head += engine.available() ? " (" + engine.describe() + ")" : " (" + engine.describe() + "; the hub that runs it needs node)";
    notes.push_back({0, head});
    core::for_each_step(wf.steps, [&](const core::workflow_step& s) {
        if (!s.dialect_note.empty()) notes.push_back({s.line_of("pattern"), "step \"" + s.id + "\" " + s.dialect_note});
    });
    for (const auto& i : items) {
        if (i.field)
            notes.push_back({i.field->line, "step \"" + i.step->id + "\" " + i.field->field + ": ${" + shorten(i.field->source) + "} uses JavaScript"});
        else
            notes.push_back({i.step->line_of("script"), "step \"" + i.step->id + "\" script runs in JavaScript on the hub"});
    }
    if (!engine.available() || items.empty()) return notes;
    std::vector<std::pair<bool, std::string>> code;
    for (const auto& i : items)
        code.emplace_back(i.field == nullptr, i.field ? i.field->source : std::get<core::script_step>(i.step->config).code);
    js_limits limits;
    limits.timeout_ms = 5000;
    const auto results = engine.check_syntax(code, limits);
    for (std::size_t k = 0; k < items.size() && k < results.size(); ++k) {
        if (results[k].ok) continue;
        const auto& i = items[k];
        core::diagnostic d;
        d.file = wf.source_file;
        if (i.field) {
            d.line = i.field->line;
            d.message = "step \"" + i.step->id + "\" " + i.field->field + ": ${" + shorten(i.field->source) + "}: " + results[k].error;
        } else {
            const auto& s = std::get<core::script_step>(i.step->config);
            d.line = results[k].line > 0 ? s.code_line + results[k].line - 1 : i.step->line_of("script");
            d.message = "step \"" + i.step->id + "\" script" + (results[k].line > 0 ? " line " + std::to_string(results[k].line) : "") + ": " +
                        results[k].error;
        }
        d.hint = "the JavaScript does not compile";
        check.diagnostics.push_back(std::move(d));
    }
    std::stable_sort(check.diagnostics.begin(), check.diagnostics.end(),
                     [](const core::diagnostic& a, const core::diagnostic& b) { return a.line < b.line; });
    return notes;
}

}  // namespace orbitmesh::engine
