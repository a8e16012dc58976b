#include "engine/events/event_routes.hpp"

#include <algorithm>
#include <charconv>

#include "core/duration.hpp"
#include "core/error.hpp"
#include "engine/hub/http_api.hpp"

namespace orbitmesh::engine {

namespace {

using transport::http_reply;
using transport::http_request;

constexpr std::int64_t default_keepalive_ms = 15'000;

std::int64_t parse_seq(const std::string& text, const char* what) {
    std::int64_t v = -1;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || end != text.data() + text.size() || v < 0)
        throw core::error(core::error_kind::invalid_input,
                          std::string(what) + " must be an event seq (a whole number >= 0), got \"" + text + "\"");
    return v;
}

/// Where the client resumes: `Last-Event-ID` (what EventSource sends on reconnect) wins over
/// `?after=`; neither means live events only (-1).
std::int64_t resume_point(const http_request& req) {
    if (auto h = req.headers.find("last-event-id"); h != req.headers.end() && !h->second.empty())
        return parse_seq(h->second, "the Last-Event-ID header");
    if (auto q = req.query.find("after"); q != req.query.end()) return parse_seq(q->second, "query parameter \"after\"");
    return -1;
}

std::int64_t keepalive_of(const http_request& req) {
    auto q = req.query.find("keepalive");
    if (q == req.query.end()) return default_keepalive_ms;
    auto ms = core::parse_duration_or_throw(q->second, "query parameter \"keepalive\"");
    if (ms < 1000 || ms > 300'000)
        throw core::error(core::error_kind::invalid_input, "query parameter \"keepalive\" must be between 1s and 5m, got " + q->second);
    return ms;
}

}  // namespace

void add_event_stream_route(route_table& t, std::shared_ptr<event_feed> feed) {
    t.add("GET", "/api/v1/events", operators,
          [feed](const http_request& req, const route_params&, const core::principal&, http_reply reply) {
              auto filter = event_filter::from_query(req.query);
              const auto after = resume_point(req);
              const auto id = feed->open(std::move(filter), after, keepalive_of(req));
              transport::http_response r;
              r.content_type = "text/event-stream";
              r.headers = {{"Cache-Control", "no-cache"}, {"X-Accel-Buffering", "no"}};
              r.body = "retry: 2000\n\n";  // EventSource's reconnect delay; it then resumes with Last-Event-ID
              r.stream = [feed, id](std::shared_ptr<transport::http_stream> out) { feed->attach(id, std::move(out)); };
              r.closed = [feed, id] { feed->close(id); };
              reply(std::move(r));
          });
}

}  // namespace orbitmesh::engine
