// Step keys the original OrbitMesh's files use (docs/original-format.md): `args:` on job steps,
// `notify`/`notification` with channels, `script` (JavaScript) and `http` steps.
#include <algorithm>
#include <cctype>

#include "engine/workflow/step_builder.hpp"

namespace orbitmesh::engine {

namespace {

std::string scalar_template_text(map_reader& r, std::string_view key) {
    const source_node* n = r.get(key);
    if (n == nullptr || n->is_null()) return {};
    if (!n->is_scalar()) {
        r.error(*n, key, "must be text, not " + describe(*n));
        return {};
    }
    check_value(*n, r.sink(), r.owner() + " " + std::string(key));
    return n->text;
}

std::string upper(std::string s) {
    for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

std::vector<int> read_statuses(map_reader& r) {
    std::vector<int> out;
    const source_node* n = r.get("expected_status");
    if (n == nullptr || n->is_null()) return out;
    std::vector<const source_node*> items;
    if (n->is_sequence())
        for (const auto& c : n->children) items.push_back(&c);
    else
        items.push_back(n);
    for (const auto* c : items) {
        const auto v = c->is_scalar() ? scalar_value(*c) : core::json();
        if (!v.is_number_integer() || v.get<int>() < 100 || v.get<int>() > 599) {
            r.error(*c, "expected_status", in_quotes(c->text) + " is not an HTTP status", "write e.g. 200 or [200, 204]");
            continue;
        }
        out.push_back(v.get<int>());
    }
    return out;
}

}  // namespace

void merge_args(map_reader& r, core::job_action& a) {
    const source_node* args = r.get("args");
    if (args == nullptr || args->is_null()) return;
    if (!args->is_mapping()) {
        r.error(*args, "args", "must be a map NAME: VALUE (the original's argument map), not " + describe(*args));
        return;
    }
    check_value(*args, r.sink(), r.owner() + " args");
    if (a.payload.is_null()) a.payload = core::json::object();
    if (!a.payload.is_object()) {
        r.error(*args, "args", "cannot be merged into a payload that is " + std::string(a.payload.type_name()),
                "write the payload as a map, or put everything in args");
        return;
    }
    for (const auto& c : args->children) {
        if (a.payload.contains(c.key)) {
            r.error(c, "args", in_quotes(c.key) + " is also a key of payload", "keep it in one of them");
            continue;
        }
        a.payload[c.key] = to_json(c);
    }
}

core::step_config read_notify(map_reader& r) {
    core::notify_step n;
    // `notify` is ours (a webhook unless told otherwise); the original's `notification` defaults
    // to the hub's default channel.
    const source_node* type = r.node().find("type");
    const bool original = type != nullptr && type->is_scalar() && type->text == "notification";
    n.channel = r.text("channel").value_or(original && !r.has("target") ? "default" : "webhook");
    if (!is_plain_name(n.channel))
        r.error(*r.get("channel"), "channel", in_quotes(n.channel) + " is not a channel name",
                "use webhook (with target: URL), log, default, or a name given to serve --notify-channel NAME=URL");
    if (n.channel == "webhook") {
        if (r.require("target", "target: the URL to POST to")) n.target = scalar_template_text(r, "target");
    } else if (r.has("target")) {
        n.target = scalar_template_text(r, "target");
    }
    if (r.require("message", "message: the text or JSON to send")) {
        const source_node* m = r.get("message");
        check_value(*m, r.sink(), r.owner() + " message");
        n.message = m->is_scalar() ? core::json(m->text) : to_json(*m);
    }
    if (r.has("title") && r.has("subject"))
        r.sink().error(r.node().find("subject")->key_pos, r.owner() + " has both title and subject", "subject is the original name of title; keep one");
    n.title = scalar_template_text(r, r.has("title") ? "title" : "subject");
    n.severity = scalar_template_text(r, "severity");
    return n;
}

core::step_config read_script(map_reader& r) {
    core::script_step s;
    if (auto lang = r.text("language")) {
        std::string l = *lang;
        std::transform(l.begin(), l.end(), l.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (l != "javascript" && l != "js" && l != "ecmascript")
            r.error(*r.get("language"), "language", in_quotes(*lang) + " is not supported",
                    "script steps run JavaScript; run other languages in a job step (run: or command: shell)");
    }
    if (!r.require("script", "script: the JavaScript to run; its return value is the step's output")) return s;
    const source_node* code = r.get("script");
    if (!code->is_scalar()) {
        r.error(*code, "script", "must be JavaScript text, not " + describe(*code));
        return s;
    }
    s.code = code->text;
    // A block scalar (`script: |`) starts on the line after its key.
    s.code_line = code->pos.line + (code->text.find('\n') != std::string::npos && code->pos.line == code->key_pos.line ? 1 : 0);
    if (s.code.find_first_not_of(" \t\r\n") == std::string::npos) r.error(*code, "script", "is empty", "return a value");
    return s;
}

core::step_config read_http(map_reader& r) {
    core::http_step h;
    if (auto m = r.text("method")) {
        h.method = upper(*m);
        static const std::vector<std::string> methods{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"};
        if (std::find(methods.begin(), methods.end(), h.method) == methods.end())
            r.error(*r.get("method"), "method", in_quotes(*m) + " is not an HTTP method", "use GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS");
    }
    if (r.require("url", "url: http://HOST:PORT/PATH")) h.url = scalar_template_text(r, "url");
    if (const source_node* hs = r.get("headers"); hs != nullptr && !hs->is_null()) {
        if (!hs->is_mapping()) {
            r.error(*hs, "headers", "must be a map NAME: VALUE, not " + describe(*hs));
        } else {
            check_value(*hs, r.sink(), r.owner() + " headers");
            for (const auto& c : hs->children) {
                if (c.is_scalar()) h.headers[c.key] = c.text;
                else r.error(c, "headers", in_quotes(c.key) + " must be text, not " + describe(c));
            }
        }
    }
    if (const source_node* b = r.get("body"); b != nullptr && !b->is_null()) {
        check_value(*b, r.sink(), r.owner() + " body");
        h.body = b->is_scalar() ? core::json(b->text) : to_json(*b);
    }
    h.expected_status = read_statuses(r);
    return h;
}

}  // namespace orbitmesh::engine
