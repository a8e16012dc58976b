// The original dialect's `pattern:` jobs: a list of every matching agent's result, or one job's
// result where the file reads it so (engine/workflow/original_pattern.hpp).
#include "engine/workflow/original_pattern.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <string_view>

namespace orbitmesh::engine {

namespace {

// What a list has that one result would not: reading one of these means the file wants the list.
constexpr std::array<std::string_view, 22> list_members = {
    "filter", "map",    "length", "find",   "every",     "some", "forEach", "flatMap", "reduce",  "includes", "slice",
    "join",   "concat", "indexOf", "sort",  "findIndex", "at",   "flat",    "reverse", "entries", "keys",     "values"};

bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$'; }

struct reading {
    int as_one = 0;   // `x.success`, `x?.package`
    int as_list = 0;  // `x.filter(…)`, `x[0]`, `x || []`
    std::string example;  // the first one-result read, as written
    int line = 0;
};

std::string_view skip_space(std::string_view s) {
    const auto b = s.find_first_not_of(" \t\r\n");
    return b == std::string_view::npos ? std::string_view{} : s.substr(b);
}

// What follows one mention of the name: a member, an index, a fallback, or nothing telling.
void classify_use(std::string_view rest, std::string_view name, int line, reading& r) {
    rest = skip_space(rest);
    if (rest.rfind("?.[", 0) == 0 || rest.rfind('[', 0) == 0) {
        ++r.as_list;
        return;
    }
    if (rest.rfind("||", 0) == 0 || rest.rfind("??", 0) == 0) {
        if (skip_space(rest.substr(2)).rfind('[', 0) == 0) ++r.as_list;  // `x || []`
        return;
    }
    const std::size_t dot = rest.rfind("?.", 0) == 0 ? 2 : rest.rfind('.', 0) == 0 ? 1 : 0;
    if (dot == 0) return;
    auto member = skip_space(rest.substr(dot));
    std::size_t n = 0;
    while (n < member.size() && ident_char(member[n])) ++n;
    member = member.substr(0, n);
    if (member.empty()) return;
    if (std::find(list_members.begin(), list_members.end(), member) != list_members.end()) {
        ++r.as_list;
        return;
    }
    if (r.as_one++ == 0) {
        r.example = std::string(name) + "." + std::string(member);
        r.line = line;
    }
}

// Every mention of `name` as a whole name (bare, or `context.NAME`) in one site.
void scan(const expression_site& site, std::string_view name, reading& r) {
    const std::string_view text = site.text;
    for (auto pos = text.find(name); pos != std::string_view::npos; pos = text.find(name, pos + 1)) {
        const auto end = pos + name.size();
        if (end < text.size() && ident_char(text[end])) continue;
        if (pos > 0 && ident_char(text[pos - 1])) continue;
        if (pos > 0 && text[pos - 1] == '.' && (pos < 8 || text.compare(pos - 8, 8, "context.") != 0)) continue;
        const int line = site.line + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(pos), '\n'));
        classify_use(text.substr(end), name, line, r);
    }
}

bool decidable(const core::workflow_step& s) {
    const auto* job = s.job();
    return job && job->per_agent_results && !s.key_pos.count("fan_out");
}

reading read_of(const core::workflow_step& s, const std::vector<expression_site>& reads) {
    reading r;
    std::vector<std::string> names = {"steps." + s.id + ".output"};
    if (!s.output_variable.empty()) names.push_back(s.output_variable);
    for (const auto& site : reads)
        for (const auto& name : names) scan(site, name, r);
    return r;
}

void one_result(core::workflow_step& s, const reading& why, bool whole_file) {
    s.job()->fan_out_all = s.job()->per_agent_results = false;
    s.dialect_note = "pattern: runs one job on one matching agent and its output is that job's result, as the original's engine "
                     "did, because " + std::string(whole_file ? "this file reads pattern: outputs" : "the file reads it") +
                     " as one result (" + why.example + ", line " + std::to_string(why.line) + ")";
}

void collect(core::step_list& steps, std::vector<core::workflow_step*>& out) {
    for (auto& s : steps) {
        if (decidable(s)) out.push_back(&s);
        if (auto* p = std::get_if<core::parallel_step>(&s.config)) collect(p->branches, out);
        if (auto* c = std::get_if<core::conditional_step>(&s.config)) {
            collect(c->then_steps, out);
            collect(c->else_steps, out);
        }
        if (auto* f = std::get_if<core::foreach_step>(&s.config)) collect(f->steps, out);
    }
}

}  // namespace

void decide_pattern_outputs(core::step_list& steps, const std::vector<expression_site>& reads) {
    std::vector<core::workflow_step*> pattern_steps;
    collect(steps, pattern_steps);
    std::vector<reading> read;
    const reading* first_one = nullptr;
    bool any_list = false;
    for (auto* s : pattern_steps) read.push_back(read_of(*s, reads));
    for (const auto& r : read) {
        any_list = any_list || r.as_list > 0;
        if (!first_one && r.as_one > 0 && r.as_list == 0) first_one = &r;
    }
    // A file written for the original's one-job engine reads every output so: all its pattern:
    // steps are one job, those it never reads too. A file that reads lists decides step by step.
    for (std::size_t i = 0; i < pattern_steps.size(); ++i) {
        if (read[i].as_one > 0 && read[i].as_list == 0) one_result(*pattern_steps[i], read[i], false);
        else if (first_one && !any_list && read[i].as_one == 0) one_result(*pattern_steps[i], *first_one, true);
    }
}

}  // namespace orbitmesh::engine
