// The original OrbitMesh's dialect: `${…}` expressions (ours when ours reads them the same, else
// JavaScript) and steps run one after another in list order (docs/original-format.md).
#include "engine/workflow/original_dialect.hpp"

#include <algorithm>
#include <type_traits>
#include <variant>

#include "core/expression.hpp"
#include "core/expression_template.hpp"
#include "engine/workflow/original_literals.hpp"
#include "engine/workflow/original_pattern.hpp"

namespace orbitmesh::engine {

namespace {

std::size_t js_close(std::string_view s, std::size_t i);

std::size_t skip_quoted(std::string_view s, std::size_t i) {
    const char q = s[i];
    for (++i; i < s.size(); ++i) {
        if (s[i] == '\\') ++i;
        else if (s[i] == q) return i + 1;
    }
    return std::string_view::npos;
}

// Past a template literal starting at `i` (a backtick), its own `${…}` included.
std::size_t skip_template_literal(std::string_view s, std::size_t i) {
    for (++i; i < s.size(); ++i) {
        if (s[i] == '\\') {
            ++i;
        } else if (s[i] == '`') {
            return i + 1;
        } else if (s[i] == '$' && i + 1 < s.size() && s[i + 1] == '{') {
            i = js_close(s, i + 2);
            if (i == std::string_view::npos) return std::string_view::npos;
        }
    }
    return std::string_view::npos;
}

// The `}` closing a `${` whose body starts at `i`: strings, template literals and nested braces
// are skipped; std::string_view::npos when it never closes.
std::size_t js_close(std::string_view s, std::size_t i) {
    int depth = 0;
    while (i < s.size()) {
        const char c = s[i];
        if (c == '\'' || c == '"' || c == '`') {
            i = c == '`' ? skip_template_literal(s, i) : skip_quoted(s, i);
            if (i == std::string_view::npos) return std::string_view::npos;
            continue;
        }
        if (c == '{') ++depth;
        if (c == '}' && depth-- == 0) return i;
        ++i;
    }
    return std::string_view::npos;
}

bool has_original_expression(std::string_view s) {
    for (auto i = s.find("${"); i != std::string_view::npos; i = s.find("${", i + 2))
        if ((i == 0 || s[i - 1] != '$') && s.compare(i, 3, "${{") != 0) return true;
    return false;
}

std::string trim(std::string_view s) {
    const auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string_view::npos) return {};
    return std::string(s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1));
}

bool ours_reads(const std::string& expr) {
    if (needs_javascript(expr)) return false;
    try {
        core::parse_expression(expr);
        return true;
    } catch (const core::error&) {
        return false;
    }
}

// ---- detection -------------------------------------------------------------------------------

bool holds_expression(const source_node& n) {
    if (n.is_scalar()) return has_original_expression(n.text);
    for (const auto& c : n.children)
        if (holds_expression(c)) return true;
    return false;
}

std::string at_line(const std::string& what, core::source_pos p) { return "it uses " + what + " (line " + std::to_string(p.line) + ")"; }

void probe_steps(const source_node& list, std::string& reason) {
    for (const auto& step : list.children) {
        if (!reason.empty() || !step.is_mapping()) return;
        for (const auto& c : step.children) {
            if (c.key == "type" && c.is_scalar() && (c.text == "script" || c.text == "notification" || c.text == "http"))
                reason = at_line("type: " + c.text, c.pos);
            else if (c.key == "args" || c.key == "language")
                reason = at_line(c.key + ":", c.key_pos);
            else if (is_original_step_list(c.key) && c.is_sequence())
                probe_steps(c, reason);
            else if (c.key != "run" && c.key != "script" && c.key != "compensation" && holds_expression(c))
                reason = at_line("${…} expressions", c.key_pos);
            if (!reason.empty()) return;
        }
    }
}

// ---- rewriting -------------------------------------------------------------------------------

class rewriter {
public:
    rewriter(core::workflow_step& s, diagnostics_sink& sink, std::vector<expression_site>* sites = nullptr)
        : s_(s), sink_(sink), sites_(sites) {}

    // A string that may hold `${…}` anywhere: each becomes `${{ … }}`.
    std::string text(const std::string& in, const std::string& field, bool allow_js = true) {
        if (!has_original_expression(in)) return in;
        std::string out;
        std::size_t i = 0;
        while (i < in.size()) {
            const auto open = in.find("${", i);
            if (open == std::string_view::npos) break;
            if ((open > 0 && in[open - 1] == '$') || in.compare(open, 3, "${{") == 0) {
                out.append(in, i, open + 2 - i);
                i = open + 2;
                continue;
            }
            const auto close = js_close(in, open + 2);
            if (close == std::string_view::npos) {
                sink_.error({s_.line_of(field), 0}, "step \"" + s_.id + "\" " + field + ": \"${\" is never closed", "end it with }");
                return in;
            }
            out.append(in, i, open - i);
            const std::string expr = trim(std::string_view(in).substr(open + 2, close - open - 2));
            note(expr, field);
            out += "${{ " + engine_for(expr, field, allow_js) + " }}";
            i = close + 1;
        }
        out.append(in, i, std::string_view::npos);
        return out;
    }

    // A field that is an expression by nature: bare, or wrapped in `${…}`.
    std::string expression(const std::string& in, const std::string& field) {
        if (in.empty()) return in;
        note(in, field);
        if (ours_reads_field(in)) return in;
        std::string js = trim(in);
        if (js.size() > 3 && js.compare(0, 2, "${") == 0 && js_close(js, 2) == js.size() - 1) js = trim(js.substr(2, js.size() - 3));
        return add_js(js, field);
    }

    core::json value(const core::json& v, const std::string& field, bool allow_js = true) {
        if (v.is_string()) return text(v.get<std::string>(), field, allow_js);
        if (v.is_array()) {
            core::json out = core::json::array();
            for (const auto& x : v) out.push_back(value(x, field, allow_js));
            return out;
        }
        if (v.is_object()) {
            core::json out = core::json::object();
            for (auto it = v.begin(); it != v.end(); ++it) out[it.key()] = value(it.value(), field, allow_js);
            return out;
        }
        return v;
    }

private:
    void note(const std::string& expr, const std::string& field) {
        if (sites_) sites_->push_back({expr, s_.line_of(field)});
    }

    static bool ours_reads_field(const std::string& in) {
        std::string bare = trim(in);
        if (bare.size() > 3 && bare.compare(0, 2, "${") == 0 && js_close(bare, 2) == bare.size() - 1) bare = trim(bare.substr(2, bare.size() - 3));
        if (needs_javascript(bare)) return false;
        try {
            core::parse_expression_field(in);
            return true;
        } catch (const core::error&) {
            return false;
        }
    }

    std::string engine_for(const std::string& expr, const std::string& field, bool allow_js) {
        if (ours_reads(expr)) return expr;
        if (!allow_js) {
            sink_.error({s_.line_of(field), 0}, "\"" + s_.id + "\" " + field + ": ${" + expr.substr(0, 60) + "} is JavaScript",
                        "this field is evaluated without the JavaScript engine (compensations run while a run is failing); "
                        "write it in the expression language (SPEC §4)");
            return "null";
        }
        return add_js(expr, field);
    }

    std::string add_js(const std::string& js, const std::string& field) {
        core::js_field f;
        f.key = "e" + std::to_string(s_.js.size());
        f.source = js;
        f.field = field;
        f.line = s_.line_of(field);
        s_.js.push_back(f);
        return "__js." + f.key;
    }

    core::workflow_step& s_;
    diagnostics_sink& sink_;
    std::vector<expression_site>* sites_;
};

void rewrite_job(rewriter& rw, core::job_action& a, const std::string& field, bool shell_script, bool allow_js) {
    a.command = rw.text(a.command, "command", allow_js);
    if (!shell_script) a.payload = rw.value(a.payload, field, allow_js);
    a.target.agent = rw.text(a.target.agent, "pattern", allow_js);
    for (auto& c : a.target.capabilities) c = rw.text(c, "capabilities", allow_js);
    for (auto& [k, v] : a.target.tags) v = rw.text(v, "tags", allow_js);
}

void rewrite_config(rewriter& rw, core::workflow_step& s) {
    std::visit(
        [&](auto& c) {
            using T = std::decay_t<decltype(c)>;
            if constexpr (std::is_same_v<T, core::job_step>) {
                rewrite_job(rw, c.action, s.key_pos.count("args") ? "args" : "payload", s.key_pos.count("run") > 0, true);
                // The original sent a `pattern:` job to every matching agent and its scripts read
                // the list of per-agent results it gave back.
                if (s.key_pos.count("pattern")) c.action.fan_out_all = c.action.per_agent_results = true;
            } else if constexpr (std::is_same_v<T, core::conditional_step>) {
                c.expression = rw.expression(c.expression, "expression");
            } else if constexpr (std::is_same_v<T, core::transform_step>) {
                c.expression = rw.expression(c.expression, "expression");
            } else if constexpr (std::is_same_v<T, core::foreach_step>) {
                c.collection = c.collection.is_string() ? core::json(rw.expression(c.collection.template get<std::string>(), "collection"))
                                                        : rw.value(c.collection, "collection");
            } else if constexpr (std::is_same_v<T, core::notify_step>) {
                c.target = rw.text(c.target, "target");
                c.message = rw.value(c.message, "message");
                c.title = rw.text(c.title, s.key_pos.count("subject") ? "subject" : "title");
                c.severity = rw.text(c.severity, "severity");
            } else if constexpr (std::is_same_v<T, core::http_step>) {
                c.url = rw.text(c.url, "url");
                c.headers = rw.value(c.headers, "headers");
                c.body = rw.value(c.body, "body");
            } else if constexpr (std::is_same_v<T, core::wait_for_event_step>) {
                c.correlation_key = rw.text(c.correlation_key, "correlation_key");
            } else if constexpr (std::is_same_v<T, core::sub_workflow_step>) {
                c.input = rw.value(c.input, "input");
            } else if constexpr (std::is_same_v<T, core::approval_step>) {
                c.message = rw.text(c.message, "message");
            }
        },
        s.config);
}

void rewrite_steps(core::step_list& steps, bool in_order, diagnostics_sink& sink, std::vector<expression_site>& sites) {
    for (std::size_t i = 0; i < steps.size(); ++i) {
        auto& s = steps[i];
        rewriter rw(s, sink, &sites);
        s.condition = rw.expression(s.condition, "condition");
        s.timeout_template = rw.text(s.timeout_template, "timeout");
        rewrite_config(rw, s);
        if (const auto* code = std::get_if<core::script_step>(&s.config)) sites.push_back({code->code, code->code_line});
        if (s.compensation) rewrite_job(rw, *s.compensation, "compensation", s.compensation->command == "shell", false);
        if (in_order && i > 0 && s.depends_on.empty() && !steps[i - 1].id.empty()) {
            s.depends_on.push_back(steps[i - 1].id);
            s.implicit_order = true;
        }
        if (auto* p = std::get_if<core::parallel_step>(&s.config)) rewrite_steps(p->branches, false, sink, sites);
        if (auto* c = std::get_if<core::conditional_step>(&s.config)) {
            rewrite_steps(c->then_steps, true, sink, sites);
            rewrite_steps(c->else_steps, true, sink, sites);
        }
        if (auto* f = std::get_if<core::foreach_step>(&s.config)) rewrite_steps(f->steps, true, sink, sites);
    }
}

}  // namespace

bool needs_javascript(std::string_view e) {
    for (std::string_view marker : {"===", "!==", "=>", "`", "?.", ".length", "typeof ", "instanceof ", "new "})
        if (e.find(marker) != std::string_view::npos) return true;
    return false;
}

std::string detect_original_dialect(const source_node& root, std::string_view text, diagnostics_sink& sink) {
    if (!root.is_mapping()) return {};
    if (const source_node* f = root.find("format"); f != nullptr && !f->is_null()) {
        if (f->is_scalar() && (f->text == "original" || f->text == "orbitmesh-v1")) return "it says format: " + f->text;
        if (f->is_scalar() && f->text == "orbitmesh") return {};
        sink.error(f->pos, "workflow format " + in_quotes(f->text) + " is unknown",
                   "use format: original (the original OrbitMesh's ${…} and step order) or format: orbitmesh");
        return {};
    }
    if (text.find("${{") != std::string_view::npos) return {};
    std::string reason;
    if (const source_node* triggers = root.find("triggers"); triggers != nullptr && triggers->is_sequence())
        for (const auto& t : triggers->children)
            if (const source_node* type = t.find("type"); reason.empty() && type && type->is_scalar() &&
                                                          (type->text == "job_completion" || type->text == "file_watch"))
                reason = at_line("a " + type->text + " trigger", type->pos);
    if (const source_node* steps = root.find("steps"); reason.empty() && steps != nullptr && steps->is_sequence())
        probe_steps(*steps, reason);
    return reason;
}

void apply_original_dialect(core::workflow& wf, diagnostics_sink& sink) {
    std::vector<expression_site> sites;
    rewrite_steps(wf.steps, true, sink, sites);
    decide_pattern_outputs(wf.steps, sites);
    for (auto& t : wf.triggers) {
        if (!has_original_expression(t.watch_path)) continue;
        core::workflow_step holder;
        holder.id = t.id;
        rewriter rw(holder, sink);
        t.watch_path = rw.text(t.watch_path, "watch_path", false);
    }
}

}  // namespace orbitmesh::engine
