#include "engine/workflow/workflow_routes.hpp"

#include <algorithm>
#include <limits>
#include <string_view>

#include "core/duration.hpp"
#include "core/error.hpp"
#include "core/field_reader.hpp"
#include "engine/hub/http_json.hpp"

namespace orbitmesh::engine {

namespace {

using transport::http_reply;
using transport::http_request;

std::vector<std::string> segments(const std::string& path) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start < path.size()) {
        auto slash = path.find('/', start);
        if (slash == std::string::npos) slash = path.size();
        if (slash > start) out.push_back(path.substr(start, slash - start));
        start = slash + 1;
    }
    return out;
}

/// Runs `fn(reply)` on the strand; a core::error it throws becomes the JSON error response, any
/// other exception a logged 500 (the strand's last guard for the runner).
void on_strand(const strand_poster& post, const http_request& req, http_reply reply,
               std::function<void(const api_reply&)> fn) {
    post([what = req.method + " " + req.path, reply = std::move(reply), fn = std::move(fn)] {
        api_reply answer = [reply](int status, core::json body) { reply(json_response(status, body)); };
        try {
            fn(answer);
        } catch (const core::error& e) {
            reply(error_response(e));
        } catch (const std::exception& e) {
            reply(internal_error_response(what, e));
        }
    });
}

[[noreturn]] void no_route(const http_request& req) {
    throw core::error(core::error_kind::not_found, "no route " + req.method + " " + req.path + " (see docs/http-api.md)");
}

std::int64_t timeout_of(core::field_reader& body) {
    if (auto text = body.maybe_text("timeout")) return core::parse_duration_or_throw(*text, "request body field \"timeout\"");
    return body.maybe_integer("timeout_ms", 0, std::numeric_limits<std::int64_t>::max()).value_or(0);
}

approval_request approval_of(core::field_reader& body) {
    approval_request a;
    a.step = body.maybe_text("step").value_or(std::string{});
    a.approver = body.maybe_text("approver").value_or(std::string{});
    a.reject = body.maybe_boolean("reject").value_or(false);
    a.comment = body.maybe_text("comment").value_or(std::string{});
    return a;
}

void route_workflows(const std::shared_ptr<runner>& rn, const strand_poster& post, const http_request& req, http_reply reply) {
    auto seg = segments(req.path);
    if (seg.size() == 3 && req.method == "POST") {
        auto body = parse_body(req);
        auto fields = body_fields(body);
        auto source = fields.maybe_text("source");
        if (!source)
            throw core::error(core::error_kind::invalid_input, "workflow body needs \"source\": the YAML or JSON text of the file");
        auto file = fields.maybe_text("file").value_or("workflow.yaml");
        return on_strand(post, req, std::move(reply), [rn, source = std::move(*source), file](const api_reply& r) { rn->register_workflow(source, file, r); });
    }
    if (seg.size() == 3 && req.method == "GET")
        return on_strand(post, req, std::move(reply), [rn](const api_reply& r) { r(200, rn->list_workflows()); });
    if (seg.size() == 4 && req.method == "GET")
        return on_strand(post, req, std::move(reply), [rn, id = seg[3]](const api_reply& r) { r(200, rn->get_workflow(id)); });
    no_route(req);
}

void start_run(const std::shared_ptr<runner>& rn, const strand_poster& post, const http_request& req, http_reply reply) {
    auto body = parse_body(req);
    auto fields = body_fields(body);
    run_request rq;
    rq.workflow_id = fields.maybe_text("workflow_id").value_or(fields.maybe_text("workflow").value_or(std::string{}));
    if (rq.workflow_id.empty())
        throw core::error(core::error_kind::invalid_input, "run body needs \"workflow_id\" (a registered workflow's id)");
    rq.version = fields.maybe_text("version").value_or(std::string{});
    if (fields.maybe_object("inputs")) rq.inputs = fields.value("inputs");
    rq.idempotency_key = fields.maybe_text("idempotency_key").value_or(std::string{});
    rq.timeout_ms = timeout_of(fields);
    on_strand(post, req, std::move(reply), [rn, rq](const api_reply& r) { rn->start_run(rq, r); });
}

void route_runs(const std::shared_ptr<runner>& rn, const strand_poster& post, const http_request& req, http_reply reply) {
    auto seg = segments(req.path);
    const auto& m = req.method;
    if (seg.size() == 3 && m == "POST") return start_run(rn, post, req, std::move(reply));
    if (seg.size() == 3 && m == "GET") {
        auto limit = static_cast<std::size_t>(std::clamp<std::int64_t>(query_int(req, "limit", 1000), 1, 10'000));
        auto state = req.query.count("state") ? req.query.at("state") : std::string{};
        return on_strand(post, req, std::move(reply), [rn, limit, state](const api_reply& r) { r(200, rn->list_runs(limit, state)); });
    }
    if (seg.size() < 4) no_route(req);
    auto id = seg[3];
    auto wait = query_duration(req, "wait");
    if (seg.size() == 4 && m == "GET")
        return on_strand(post, req, std::move(reply), [rn, id, wait](const api_reply& r) { rn->get_run(id, wait, r); });
    if (seg.size() != 5) no_route(req);
    const auto& op = seg[4];
    if (op == "events" && m == "GET") {
        auto after = query_int(req, "after", 0);
        return on_strand(post, req, std::move(reply), [rn, id, after, wait](const api_reply& r) { rn->run_events(id, after, wait, r); });
    }
    if (m != "POST") no_route(req);
    auto body = parse_body(req);
    auto fields = body_fields(body);
    std::function<void(const api_reply&)> fn;
    if (op == "cancel")
        fn = [rn, id, why = fields.maybe_text("reason").value_or("")](const api_reply& r) { rn->cancel_run(id, why, r); };
    if (op == "pause" || op == "resume") fn = [rn, id, p = op == "pause"](const api_reply& r) { rn->pause_run(id, p, r); };
    if (op == "approve") fn = [rn, id, a = approval_of(fields)](const api_reply& r) { rn->approve(id, a, r); };
    if (op == "rerun") fn = [rn, id, from = fields.maybe_text("from").value_or("")](const api_reply& r) { rn->rerun(id, from, r); };
    if (!fn) no_route(req);
    on_strand(post, req, std::move(reply), std::move(fn));
}

void route_events(const std::shared_ptr<runner>& rn, const strand_poster& post, const http_request& req, http_reply reply) {
    if (segments(req.path).size() != 3 || req.method != "POST") no_route(req);
    auto body = parse_body(req);
    auto fields = body_fields(body);
    auto type = fields.maybe_text("type").value_or(std::string{});
    if (type.empty()) throw core::error(core::error_kind::invalid_input, "event body needs \"type\"");
    auto data = fields.value("data");
    auto key = fields.maybe_text("correlation_key").value_or(std::string{});
    on_strand(post, req, std::move(reply), [rn, type, data, key](const api_reply& r) { rn->post_event(type, data, key, r); });
}

}  // namespace

extra_routes make_workflow_routes(std::shared_ptr<runner> rn, strand_poster post) {
    extra_routes routes;
    routes["workflows"] = [rn, post](http_request req, http_reply reply) { route_workflows(rn, post, req, std::move(reply)); };
    routes["runs"] = [rn, post](http_request req, http_reply reply) { route_runs(rn, post, req, std::move(reply)); };
    routes["events"] = [rn, post](http_request req, http_reply reply) { route_events(rn, post, req, std::move(reply)); };
    return routes;
}

}  // namespace orbitmesh::engine
