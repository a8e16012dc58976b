#include "engine/workflow/workflow_routes.hpp"

#include <algorithm>
#include <limits>

#include "core/duration.hpp"
#include "core/error.hpp"
#include "core/field_reader.hpp"
#include "engine/hub/http_json.hpp"

namespace orbitmesh::engine {

namespace {

using transport::http_reply;
using transport::http_request;

void on_strand(const strand_poster& post, const http_request& req, http_reply reply,
               std::function<void(const api_reply&)> fn) {
    reply_on_strand(post, req, std::move(reply), std::move(fn));
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

using P = const route_params&;
using W = const core::principal&;

void add_workflows(route_table& t, const std::shared_ptr<runner>& rn, const strand_poster& post) {
    t.add("POST", "/api/v1/workflows", operators, [rn, post](const http_request& req, P, W, http_reply reply) {
        auto body = parse_body(req);
        auto fields = body_fields(body);
        auto source = fields.maybe_text("source");
        if (!source)
            throw core::error(core::error_kind::invalid_input, "workflow body needs \"source\": the YAML or JSON text of the file");
        auto file = fields.maybe_text("file").value_or("workflow.yaml");
        on_strand(post, req, std::move(reply), [rn, source = std::move(*source), file](const api_reply& r) { rn->register_workflow(source, file, r); });
    });
    t.add("GET", "/api/v1/workflows", operators, [rn, post](const http_request& req, P, W, http_reply reply) {
        on_strand(post, req, std::move(reply), [rn](const api_reply& r) { r(200, rn->list_workflows()); });
    });
    t.add("GET", "/api/v1/workflows/{id}", operators, [rn, post](const http_request& req, P p, W, http_reply reply) {
        on_strand(post, req, std::move(reply), [rn, id = p[0]](const api_reply& r) { r(200, rn->get_workflow(id)); });
    });
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

/// `POST /api/v1/runs/{id}/OP`: what OP does with its body.
std::function<void(const api_reply&)> run_operation(const std::shared_ptr<runner>& rn, const std::string& op,
                                                    const std::string& id, core::field_reader& fields) {
    if (op == "cancel")
        return [rn, id, why = fields.maybe_text("reason").value_or("")](const api_reply& r) { rn->cancel_run(id, why, r); };
    if (op == "pause" || op == "resume") return [rn, id, p = op == "pause"](const api_reply& r) { rn->pause_run(id, p, r); };
    if (op == "approve") return [rn, id, a = approval_of(fields)](const api_reply& r) { rn->approve(id, a, r); };
    return [rn, id, from = fields.maybe_text("from").value_or("")](const api_reply& r) { rn->rerun(id, from, r); };
}

void add_runs(route_table& t, const std::shared_ptr<runner>& rn, const strand_poster& post) {
    t.add("POST", "/api/v1/runs", operators, [rn, post](const http_request& req, P, W, http_reply reply) { start_run(rn, post, req, std::move(reply)); });
    t.add("GET", "/api/v1/runs", operators, [rn, post](const http_request& req, P, W, http_reply reply) {
        auto limit = static_cast<std::size_t>(std::clamp<std::int64_t>(query_int(req, "limit", 1000), 1, 10'000));
        auto state = req.query.count("state") ? req.query.at("state") : std::string{};
        on_strand(post, req, std::move(reply), [rn, limit, state](const api_reply& r) { r(200, rn->list_runs(limit, state)); });
    });
    t.add("GET", "/api/v1/runs/{id}", operators, [rn, post](const http_request& req, P p, W, http_reply reply) {
        auto wait = query_duration(req, "wait");
        on_strand(post, req, std::move(reply), [rn, id = p[0], wait](const api_reply& r) { rn->get_run(id, wait, r); });
    });
    t.add("GET", "/api/v1/runs/{id}/events", operators, [rn, post](const http_request& req, P p, W, http_reply reply) {
        auto after = query_int(req, "after", 0);
        auto wait = query_duration(req, "wait");
        on_strand(post, req, std::move(reply), [rn, id = p[0], after, wait](const api_reply& r) { rn->run_events(id, after, wait, r); });
    });
    for (std::string op : {"cancel", "pause", "resume", "approve", "rerun"})
        t.add("POST", "/api/v1/runs/{id}/" + op, operators, [rn, post, op](const http_request& req, P p, W, http_reply reply) {
            auto body = parse_body(req);
            auto fields = body_fields(body);
            on_strand(post, req, std::move(reply), run_operation(rn, op, p[0], fields));
        });
}

void add_events(route_table& t, const std::shared_ptr<runner>& rn, const strand_poster& post) {
    t.add("POST", "/api/v1/events", operators, [rn, post](const http_request& req, P, W, http_reply reply) {
        auto body = parse_body(req);
        auto fields = body_fields(body);
        auto type = fields.maybe_text("type").value_or(std::string{});
        if (type.empty()) throw core::error(core::error_kind::invalid_input, "event body needs \"type\"");
        auto data = fields.value("data");
        auto key = fields.maybe_text("correlation_key").value_or(std::string{});
        on_strand(post, req, std::move(reply), [rn, type, data, key](const api_reply& r) { rn->post_event(type, data, key, r); });
    });
}

}  // namespace

void add_workflow_routes(route_table& table, std::shared_ptr<runner> rn, strand_poster post) {
    add_workflows(table, rn, post);
    add_runs(table, rn, post);
    add_events(table, rn, post);
}

}  // namespace orbitmesh::engine
