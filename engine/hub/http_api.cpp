#include "engine/hub/http_api.hpp"

#include "engine/hub/http_json.hpp"
#include "engine/hub/metrics.hpp"

#include <algorithm>

#include "core/duration.hpp"
#include "core/error.hpp"
#include "core/field_reader.hpp"
#include "core/traceparent.hpp"

namespace orbitmesh::engine {

namespace {

using transport::http_reply;
using transport::http_request;
using transport::http_response;

/// Adapts a hub outcome to an HTTP reply.
hub::job_reply to_http(http_reply reply, int status = 200) {
    return [reply = std::move(reply), status](hub::outcome<core::json> o) {
        if (o.error) return reply(error_response(*o.error));
        reply(json_response(status, o.value));
    };
}

void submit(const std::shared_ptr<hub>& h, const http_request& req, http_reply reply, bool batch) {
    auto body = parse_body(req);
    std::vector<core::job_spec> specs;
    if (batch) {
        const core::json* list = &body;
        if (body.is_object()) list = body_fields(body).get("jobs");
        if (!list || !list->is_array() || list->empty() || list->size() > 10'000)
            throw core::error(core::error_kind::invalid_input, "batch body must be {\"jobs\": [1..10000 job specs]}");
        specs.reserve(list->size());
        for (std::size_t i = 0; i < list->size(); ++i)
            specs.push_back(core::job_spec_from_request((*list)[i], "jobs[" + std::to_string(i) + "]"));
    } else {
        specs.push_back(core::job_spec_from_request(body));
    }
    // W3C Trace Context: a caller's `traceparent` header is the parent of every job it submits
    // that names none itself (the hub makes a trace for the rest).
    if (auto tp = req.headers.find("traceparent"); tp != req.headers.end()) {
        auto parent = core::parse_traceparent(tp->second);
        if (!parent)
            throw core::error(core::error_kind::invalid_input,
                              "the traceparent header \"" + tp->second.substr(0, 80) +
                                  "\" is not a W3C traceparent (00-<32 hex trace id>-<16 hex span id>-<2 hex flags>)");
        for (auto& s : specs)
            if (s.trace.empty()) s.trace = parent->text();
    }
    // `POST /api/v1/jobs?wait=D`: submit and wait in one request (like a gearman SUBMIT_JOB), so a
    // caller that wants the result pays one round trip instead of a POST and a GET.
    const std::int64_t wait_ms = batch ? 0 : query_duration(req, "wait");
    h->submit(std::move(specs), [h, reply = std::move(reply), batch, wait_ms](hub::outcome<core::json> o, bool created) {
        if (o.error) return reply(error_response(*o.error));
        int status = created ? 201 : 200;
        if (wait_ms > 0) return h->get_job(o.value.at(0).at("id").get<std::string>(), wait_ms, to_http(reply, status));
        reply(json_response(status, batch ? core::json{{"jobs", o.value}} : o.value.at(0)));
    }, batch);
}

void invoke(const std::shared_ptr<hub>& h, const http_request& req, std::string agent, http_reply reply) {
    auto body = parse_body(req);
    auto r = body_fields(body);
    auto method = r.maybe_text("method").value_or(std::string{});
    if (method.empty()) throw core::error(core::error_kind::invalid_input, "invoke needs a \"method\" (e.g. ping, system.info)");
    auto timeout_text = r.maybe_text("timeout");
    std::int64_t timeout = timeout_text ? core::parse_duration_or_throw(*timeout_text, "request body field \"timeout\"") : 10'000;
    h->invoke_agent(agent, std::move(method), r.value("args"), timeout, to_http(std::move(reply)));
}

void metrics(const std::shared_ptr<hub>& h, const build_info& build, http_reply reply) {
    h->stats([h, build, reply](hub::outcome<core::json> o) {
        if (o.error) return reply(error_response(*o.error));
        h->workflow_run_counts([build, reply, stats = std::move(o.value)](hub::outcome<core::json> per) mutable {
            if (per.error) return reply(error_response(*per.error));
            stats["build"] = {{"version", build.version}, {"commit", build.commit}};
            stats["runs_by_workflow"] = std::move(per.value);
            transport::http_response r;
            r.content_type = "text/plain; version=0.0.4";
            r.body = prometheus_text(stats);
            reply(std::move(r));
        });
    });
}

/// `GET /api/v1/jobs?limit=N&state=S&command=C&agent=A&before=ID`.
job_query job_query_of(const http_request& req) {
    auto text = [&](const char* name) { return req.query.count(name) ? req.query.at(name) : std::string{}; };
    job_query q;
    q.limit = static_cast<std::size_t>(query_int(req, "limit", 1000));
    q.state = text("state");
    q.command = text("command");
    q.agent = text("agent");
    q.before = text("before");
    return q;
}

void add_job_routes(route_table& t, const std::shared_ptr<hub>& h) {
    using P = const route_params&;
    using W = const core::principal&;
    t.add("POST", "/api/v1/jobs", operators, [h](const http_request& req, P, W, http_reply reply) { submit(h, req, std::move(reply), false); });
    t.add("GET", "/api/v1/jobs", operators, [h](const http_request& req, P, W, http_reply reply) {
        h->list_jobs(job_query_of(req), to_http(std::move(reply)));
    });
    t.add("POST", "/api/v1/jobs/batch", operators, [h](const http_request& req, P, W, http_reply reply) { submit(h, req, std::move(reply), true); });
    t.add("GET", "/api/v1/jobs/{id}", operators, [h](const http_request& req, P p, W, http_reply reply) {
        h->get_job(p[0], query_duration(req, "wait"), to_http(std::move(reply)));
    });
    t.add("POST", "/api/v1/jobs/{id}/cancel", operators, [h](const http_request& req, P p, W, http_reply reply) {
        auto body = parse_body(req);
        auto reason = body_fields(body).maybe_text("reason").value_or(std::string{});
        h->cancel_job(p[0], std::move(reason), to_http(std::move(reply)));
    });
    t.add("POST", "/api/v1/jobs/{id}/retry", operators, [h](const http_request&, P p, W, http_reply reply) { h->retry_job(p[0], to_http(std::move(reply))); });
    t.add("GET", "/api/v1/jobs/{id}/logs", operators, [h](const http_request& req, P p, W, http_reply reply) {
        h->job_logs(p[0], query_int(req, "after", 0), query_duration(req, "wait"),
                    static_cast<std::size_t>(std::clamp<std::int64_t>(query_int(req, "limit", 1000), 1, 10'000)),
                    to_http(std::move(reply)));
    });
}

}  // namespace

void add_hub_routes(route_table& t, std::shared_ptr<hub> h, build_info build) {
    using P = const route_params&;
    using W = const core::principal&;
    // Health checks answer anyone: load balancers and orchestrators probe them without a token.
    t.add_open("GET", "/healthz", [](const http_request&, P, W, http_reply reply) { reply(json_response(200, {{"status", "ok"}})); });
    // Ready once recovery is done and until the hub begins to stop: a load balancer stops sending
    // work a moment before the port closes.
    t.add_open("GET", "/readyz", [phase = build.phase](const http_request&, P, W, http_reply reply) {
        const int p = phase ? phase->load() : 1;
        if (p == 1) return reply(json_response(200, {{"status", "ready"}}));
        reply(json_response(503, {{"status", p == 0 ? "starting" : "stopping"}}));
    });
    t.add("GET", "/metrics", operators, [h, build](const http_request&, P, W, http_reply reply) { metrics(h, build, std::move(reply)); });
    t.add("GET", "/api/v1/stats", operators, [h](const http_request&, P, W, http_reply reply) { h->stats(to_http(std::move(reply))); });
    add_job_routes(t, h);
    t.add("GET", "/api/v1/agents", operators, [h](const http_request&, P, W, http_reply reply) { h->list_agents(to_http(std::move(reply))); });
    t.add("GET", "/api/v1/agents/{id}", operators, [h](const http_request&, P p, W, http_reply reply) { h->get_agent(p[0], to_http(std::move(reply))); });
    t.add("POST", "/api/v1/agents/{id}/invoke", operators, [h](const http_request& req, P p, W, http_reply reply) {
        invoke(h, req, p[0], std::move(reply));
    });
}

}  // namespace orbitmesh::engine
