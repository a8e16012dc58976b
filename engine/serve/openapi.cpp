#include "engine/serve/openapi.hpp"

#include <string_view>
#include <vector>

namespace orbitmesh::engine {

namespace {

/// One operation of docs/http-api.md.
struct op {
    op(const char* m, const char* p, const char* t, const char* s, std::vector<const char*> q = {}, bool b = false,
       const char* k = "200", const char* type = "application/json", bool no_token = false)
        : method(m), path(p), tag(t), summary(s), query(std::move(q)), body(b), ok(k), media(type), open(no_token) {}
    const char* method;
    const char* path;
    const char* tag;
    const char* summary;
    std::vector<const char*> query;  // query parameters (strings)
    bool body;                       // takes a JSON body
    const char* ok;                  // the success status
    const char* media;
    bool open;                       // needs no token
};

const std::vector<op>& operations() {
    static const std::vector<op> ops = {
        {"GET", "/healthz", "health", "The process is up", {}, false, "200", "application/json", true},
        {"GET", "/readyz", "health", "Ready to serve: 503 {status: starting|stopping} otherwise", {}, false, "200",
         "application/json", true},
        {"GET", "/metrics", "health", "Prometheus metrics (text format)", {}, false, "200", "text/plain"},
        {"GET", "/", "dashboard", "The dashboard (HTML, embedded in the binary)", {}, false, "200", "text/html", true},
        {"GET", "/ui/{file}", "dashboard", "The dashboard's scripts and styles", {}, false, "200", "text/javascript", true},
        {"GET", "/api/v1/stats", "health", "Jobs per state, queue depth, agents, store counters"},
        {"GET", "/api/v1/openapi.json", "health", "This document"},
        {"GET", "/api/v1/routes", "health", "Every route with the roles that may call it (admin)"},
        {"POST", "/api/v1/jobs", "jobs", "Submit a job (201; 200 for an idempotent repeat); ?wait= returns the final record", {"wait"}, true, "201"},
        {"GET", "/api/v1/jobs", "jobs", "List jobs, newest first; ?before=ID pages on", {"limit", "state", "command", "agent", "before"}},
        {"POST", "/api/v1/jobs/batch", "jobs", "Submit up to 10,000 jobs in one commit", {}, true, "201"},
        {"GET", "/api/v1/jobs/{id}", "jobs", "A job's record; ?wait= holds until it ends", {"wait"}},
        {"POST", "/api/v1/jobs/{id}/cancel", "jobs", "Cancel a job", {}, true},
        {"POST", "/api/v1/jobs/{id}/retry", "jobs", "Re-queue a dead or failed job", {}, true},
        {"GET", "/api/v1/jobs/{id}/logs", "jobs", "A job's output lines after a seq (long poll with ?wait=)", {"after", "wait", "limit"}},
        {"GET", "/api/v1/agents", "agents", "Agents with state, load, tags and circuit"},
        {"GET", "/api/v1/agents/{id}", "agents", "One agent by id or name"},
        {"POST", "/api/v1/agents/{id}/invoke", "agents", "Call a method on a connected agent", {}, true},
        {"GET", "/api/v1/agents/{id}/twin", "agents", "Both halves of an agent's twin"},
        {"PATCH", "/api/v1/agents/{id}/twin", "agents", "Merge keys into the twin's desired half", {}, true},
        {"POST", "/api/v1/workflows", "workflows", "Register a workflow from its source", {}, true, "201"},
        {"GET", "/api/v1/workflows", "workflows", "Registered workflows"},
        {"GET", "/api/v1/workflows/{id}", "workflows", "One workflow with its source"},
        {"POST", "/api/v1/runs", "runs", "Start a run", {}, true, "201"},
        {"GET", "/api/v1/runs", "runs", "List runs, newest first", {"limit", "state"}},
        {"GET", "/api/v1/runs/{id}", "runs", "A run's record with every step; ?wait= holds until it ends", {"wait"}},
        {"GET", "/api/v1/runs/{id}/events", "runs", "A run's events after a seq (long poll)", {"after", "wait"}},
        {"POST", "/api/v1/runs/{id}/cancel", "runs", "Cancel a run (compensates)", {}, true},
        {"POST", "/api/v1/runs/{id}/pause", "runs", "Pause a run: no new steps start", {}, true},
        {"POST", "/api/v1/runs/{id}/resume", "runs", "Resume a paused run", {}, true},
        {"POST", "/api/v1/runs/{id}/approve", "runs", "Approve or reject a waiting approval step", {}, true},
        {"POST", "/api/v1/runs/{id}/rerun", "runs", "Start a new run from a step, reusing upstream outputs", {}, true, "201"},
        {"POST", "/api/v1/events", "events", "Post a custom event (wait_for_event steps, event triggers)", {}, true},
        {"GET", "/api/v1/events", "events",
         "Server-sent events from the event log, filterable, resumable with Last-Event-ID (or ?after=)",
         {"job", "run", "agent", "type", "after", "keepalive", "access_token"}, false, "200", "text/event-stream"},
        {"GET", "/api/v1/replay", "replay", "A summary of the event log up to a point", {"until"}},
        {"GET", "/api/v1/replay/{id}", "replay", "The event timeline of a job, run or agent", {"until"}},
        {"GET", "/api/v1/replay/{id}/chrome-trace", "replay", "A run's or job's trace in Chrome trace format", {"until"}},
        {"GET", "/api/v1/verify", "replay", "Rebuild every projection from events and compare"},
        {"GET", "/api/v1/triggers", "workflows", "Triggers and their next fire times"},
        {"POST", "/api/v1/hooks/{workflow}/{trigger}", "workflows", "A webhook trigger (HMAC-SHA256 in X-OrbitMesh-Signature)", {},
         true, "202", "application/json", true},
        {"POST", "/api/v1/tokens", "tokens", "Issue a token (admin)", {}, true, "201"},
        {"GET", "/api/v1/tokens", "tokens", "Issued tokens (admin)"},
        {"GET", "/api/v1/tokens/{id}", "tokens", "One token (admin)"},
        {"POST", "/api/v1/tokens/{id}/revoke", "tokens", "Revoke a token (admin)", {}, true},
        {"POST", "/api/v1/tokens/refresh", "tokens", "Trade a refresh token for new tokens (it rotates)", {}, true, "200",
         "application/json", true},
    };
    return ops;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    return out;
}

core::json error_ref() {
    return {{"description", "Error"},
            {"content", {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}};
}

core::json operation(const op& o) {
    core::json params = core::json::array();
    std::string_view p = o.path;
    for (auto open = p.find('{'); open != std::string_view::npos; open = p.find('{', open + 1)) {
        auto close = p.find('}', open);
        params.push_back({{"name", std::string(p.substr(open + 1, close - open - 1))},
                          {"in", "path"},
                          {"required", true},
                          {"schema", {{"type", "string"}}}});
    }
    for (const char* q : o.query) params.push_back({{"name", q}, {"in", "query"}, {"required", false}, {"schema", {{"type", "string"}}}});
    if (std::string_view(o.path) == "/api/v1/events" && std::string_view(o.method) == "GET")
        params.push_back({{"name", "Last-Event-ID"}, {"in", "header"}, {"required", false}, {"schema", {{"type", "integer"}}}});
    if (std::string_view(o.method) == "POST" && std::string_view(o.path) == "/api/v1/jobs")
        params.push_back({{"name", "traceparent"}, {"in", "header"}, {"required", false}, {"schema", {{"type", "string"}}}});
    core::json ok_schema = std::string_view(o.media) == "application/json" ? core::json{{"type", "object"}} : core::json{{"type", "string"}};
    core::json out{{"tags", {o.tag}},
                   {"summary", o.summary},
                   {"operationId", lower(o.method) + std::string(o.path)},
                   {"responses",
                    {{o.ok, {{"description", "OK"}, {"content", {{o.media, {{"schema", ok_schema}}}}}}},
                     {"400", error_ref()},
                     {"401", error_ref()},
                     {"403", error_ref()},
                     {"404", error_ref()}}}};
    if (!params.empty()) out["parameters"] = std::move(params);
    if (o.body)
        out["requestBody"] = {{"required", false}, {"content", {{"application/json", {{"schema", {{"type", "object"}}}}}}}};
    if (o.open) out["security"] = core::json::array();  // no token needed
    return out;
}

}  // namespace

core::json openapi_document(const std::string& version) {
    core::json paths = core::json::object();
    for (const auto& o : operations()) paths[o.path][lower(o.method)] = operation(o);
    return {
        {"openapi", "3.0.3"},
        {"info",
         {{"title", "OrbitMesh hub API"},
          {"version", version},
          {"description", "Jobs, workflows, runs, agents and the live event stream of one OrbitMesh hub (docs/http-api.md)."}}},
        {"servers", core::json::array({{{"url", "/"}}})},
        {"security", core::json::array({{{"bearer", core::json::array()}}, {{"access_token", core::json::array()}}})},
        {"paths", std::move(paths)},
        {"components",
         {{"securitySchemes",
           {{"bearer", {{"type", "http"}, {"scheme", "bearer"}, {"bearerFormat", "JWT"}}},
            {"access_token", {{"type", "apiKey"}, {"in", "query"}, {"name", "access_token"}}}}},
          {"schemas",
           {{"Error",
             {{"type", "object"},
              {"required", {"error", "message"}},
              {"properties", {{"error", {{"type", "string"}}}, {"message", {{"type", "string"}}}}}}},
            {"Event",
             {{"type", "object"},
              {"description", "The data line of one server-sent event; its id is seq and its event name is type."},
              {"properties",
               {{"seq", {{"type", "integer"}}},
                {"stream", {{"type", "string"}}},
                {"type", {{"type", "string"}}},
                {"time", {{"type", "integer"}, {"description", "ms since the epoch"}}},
                {"data", {{"type", "object"}}}}}}}}}}},
    };
}

}  // namespace orbitmesh::engine
