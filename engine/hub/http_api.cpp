#include "engine/hub/http_api.hpp"

#include "engine/hub/http_json.hpp"
#include "engine/hub/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <string_view>

#include "core/duration.hpp"
#include "core/error.hpp"
#include "core/field_reader.hpp"

namespace orbitmesh::engine {

namespace {

using transport::http_reply;
using transport::http_request;
using transport::http_response;

/// Splits "/api/v1/jobs/ID/logs" into its segments after the prefix.
std::vector<std::string_view> segments(std::string_view path) {
    std::vector<std::string_view> out;
    while (!path.empty()) {
        if (path.front() == '/') {
            path.remove_prefix(1);
            continue;
        }
        auto slash = path.find('/');
        out.push_back(path.substr(0, slash));
        if (slash == std::string_view::npos) break;
        path.remove_prefix(slash);
    }
    return out;
}

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
            specs.push_back(core::job_spec_from_json((*list)[i], "jobs[" + std::to_string(i) + "]"));
    } else {
        specs.push_back(core::job_spec_from_json(body));
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

void route_jobs(const std::shared_ptr<hub>& h, const http_request& req, const std::vector<std::string_view>& seg,
                http_reply reply) {
    const auto& m = req.method;
    if (seg.size() == 3 && m == "POST") return submit(h, req, std::move(reply), false);
    if (seg.size() == 3 && m == "GET")
        return h->list_jobs(static_cast<std::size_t>(query_int(req, "limit", 1000)),
                            req.query.count("state") ? req.query.at("state") : "", to_http(std::move(reply)));
    if (seg.size() == 4 && seg[3] == "batch" && m == "POST") return submit(h, req, std::move(reply), true);
    std::string id(seg[3]);
    if (seg.size() == 4 && m == "GET") return h->get_job(id, query_duration(req, "wait"), to_http(std::move(reply)));
    if (seg.size() == 5 && seg[4] == "cancel" && m == "POST") {
        auto body = parse_body(req);
        auto reason = body_fields(body).maybe_text("reason").value_or(std::string{});
        return h->cancel_job(id, std::move(reason), to_http(std::move(reply)));
    }
    if (seg.size() == 5 && seg[4] == "retry" && m == "POST") return h->retry_job(id, to_http(std::move(reply)));
    if (seg.size() == 5 && seg[4] == "logs" && m == "GET")
        return h->job_logs(id, query_int(req, "after", 0), query_duration(req, "wait"),
                           static_cast<std::size_t>(std::clamp<std::int64_t>(query_int(req, "limit", 1000), 1, 10'000)),
                           to_http(std::move(reply)));
    throw core::error(core::error_kind::not_found, "no route " + m + " " + req.path);
}

void route(const std::shared_ptr<hub>& h, const extra_routes& extra, const http_request& req, http_reply reply) {
    if (req.path == "/healthz") return reply(json_response(200, {{"status", "ok"}}));
    if (req.path == "/readyz") return reply(json_response(200, {{"status", "ready"}}));
    if (req.path == "/metrics" && req.method == "GET")
        return h->stats([reply](hub::outcome<core::json> o) {
            if (o.error) return reply(error_response(*o.error));
            transport::http_response r;
            r.content_type = "text/plain; version=0.0.4";
            r.body = prometheus_text(o.value);
            reply(std::move(r));
        });
    auto seg = segments(req.path);
    if (seg.size() >= 3 && seg[0] == "api" && seg[1] == "v1") {
        if (seg[2] == "jobs") return route_jobs(h, req, seg, std::move(reply));
        if (seg[2] == "stats" && seg.size() == 3 && req.method == "GET") return h->stats(to_http(std::move(reply)));
        if (seg[2] == "agents" && seg.size() == 3 && req.method == "GET") return h->list_agents(to_http(std::move(reply)));
        if (seg[2] == "agents" && seg.size() == 4 && req.method == "GET")
            return h->get_agent(std::string(seg[3]), to_http(std::move(reply)));
        if (seg[2] == "agents" && seg.size() == 5 && seg[4] == "invoke" && req.method == "POST")
            return invoke(h, req, std::string(seg[3]), std::move(reply));
        if (auto it = extra.find(std::string(seg[2])); it != extra.end()) return it->second(req, std::move(reply));
    }
    throw core::error(core::error_kind::not_found, "no route " + req.method + " " + req.path + " (see docs/http-api.md)");
}

}  // namespace

transport::http_handler make_http_api(std::shared_ptr<hub> h, extra_routes extra) {
    return [h = std::move(h), extra = std::move(extra)](http_request req, http_reply reply) {
        try {
            route(h, extra, req, reply);
        } catch (const core::error& e) {
            reply(error_response(e));
        } catch (const std::exception& e) {
            reply(internal_error_response(req.method + " " + req.path, e));
        }
    };
}

}  // namespace orbitmesh::engine
