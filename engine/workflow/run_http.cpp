// http steps: an outbound request made by the hub on a worker thread, checked against the
// allow-list; and notifications to the `log` channel, which end without any request.
#include <algorithm>
#include <cctype>
#include <chrono>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/expression_template.hpp"
#include "core/run_events.hpp"
#include "core/url.hpp"
#include "engine/workflow/notification_channels.hpp"
#include "engine/workflow/runner.hpp"
#include "transport/outbound_http.hpp"

namespace orbitmesh::engine {

namespace {

struct parsed_url {
    std::string host;
    std::uint16_t port = 80;
    std::string target = "/";
};

parsed_url parse_http_url(const std::string& url) {
    if (url.rfind("https://", 0) == 0)
        throw core::error(core::error_kind::invalid_input, "url " + url + ": https is not supported by http steps yet; use http://");
    if (url.rfind("http://", 0) != 0)
        throw core::error(core::error_kind::invalid_input, "url \"" + url + "\" is not an http:// URL");
    parsed_url out;
    auto rest = url.substr(7);
    auto slash = rest.find_first_of("/?#");
    auto authority = rest.substr(0, slash);
    if (slash != std::string::npos) out.target = rest[slash] == '/' ? rest.substr(slash) : "/" + rest.substr(slash);
    if (auto hash = out.target.find('#'); hash != std::string::npos) out.target.resize(hash);
    if (authority.find('@') != std::string::npos)
        throw core::error(core::error_kind::invalid_input, "url " + url + ": user:password@ is not supported; send an Authorization header");
    auto colon = authority.rfind(':');
    if (colon != std::string::npos && authority.find(']', colon) == std::string::npos) {
        auto port = std::strtol(authority.c_str() + colon + 1, nullptr, 10);
        if (port <= 0 || port > 65535) throw core::error(core::error_kind::invalid_input, "url " + url + " has a bad port");
        out.port = static_cast<std::uint16_t>(port);
        authority.resize(colon);
    }
    if (authority.size() > 2 && authority.front() == '[' && authority.back() == ']') authority = authority.substr(1, authority.size() - 2);
    if (authority.empty()) throw core::error(core::error_kind::invalid_input, "url " + url + " has no host");
    out.host = authority;
    return out;
}

core::json decode_body(const transport::outbound_response& res) {
    for (const auto& [k, v] : res.headers) {
        std::string name = k;
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (name != "content-type" || v.find("json") == std::string::npos) continue;
        auto parsed = core::json::parse(res.body, nullptr, false);
        if (!parsed.is_discarded()) return parsed;
    }
    return res.body;
}

core::json header_map(const transport::outbound_response& res) {
    core::json out = core::json::object();
    for (const auto& [k, v] : res.headers) {
        std::string name = k;
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        out[name] = out.contains(name) ? out[name].get<std::string>() + ", " + v : v;
    }
    return out;
}

}  // namespace

void runner::start_http(live_run& r, const step_def& s, const std::string& path, const scope& sc, int attempt,
                        store::write_batch& batch) {
    const auto& h = std::get<core::http_step>(s.config);
    auto ctx = context(r, sc);
    const std::string url = core::stringify(core::interpolate(h.url, ctx));
    const auto where = parse_http_url(url);
    transport::outbound_request req;
    req.method = h.method;
    req.host = where.host;
    req.port = where.port;
    req.target = where.target;
    req.timeout = std::chrono::milliseconds(s.timeout_ms > 0 ? s.timeout_ms : opts_.http_timeout_ms);
    req.max_response = opts_.http_max_response;
    const auto headers = core::interpolate(h.headers, ctx);
    for (const auto& [k, v] : headers.items()) req.headers.emplace_back(k, core::stringify(v));
    auto body = core::interpolate(h.body, ctx);
    if (body.is_string()) {
        req.body = body.get<std::string>();
    } else if (!body.is_null()) {
        req.body = body.dump();
        bool typed = false;
        for (const auto& [k, v] : req.headers) typed = typed || k == "Content-Type" || k == "content-type";
        if (!typed) req.headers.emplace_back("Content-Type", "application/json");
    }
    std::weak_ptr<runner> weak = weak_from_this();
    offload("http step " + path, [weak, post = post_, req, policy = opts_.http, expected = h.expected_status, url, run = r.rec.id,
                                  path, attempt](const std::atomic<bool>&) {
        core::json output;
        std::string error;
        try {
            auto res = transport::send_outbound(req, [&](const std::string& ip, std::uint16_t port) { return policy.check(req.host, ip, port); });
            output = {{"status", res.status}, {"headers", header_map(res)}, {"body", decode_body(res)}};
            bool ok = expected.empty() ? res.status >= 200 && res.status < 300
                                       : std::find(expected.begin(), expected.end(), res.status) != expected.end();
            if (!ok) error = req.method + " " + url + " answered " + std::to_string(res.status) + ", expected " +
                             (expected.empty() ? std::string("2xx") : core::json(expected).dump());
        } catch (const std::exception& e) {
            error = req.method + " " + url + ": " + e.what();
        }
        post([weak, run, path, attempt, output = std::move(output), error = std::move(error)] {
            if (auto self = weak.lock()) self->offload_done(run, path, attempt, output, error);
        });
    });
    record(r, core::run_event::step_started, {{"path", path}, {"id", s.id}, {"type", "http"}, {"attempt", attempt}}, batch);
}

void runner::notify_log(live_run& r, const step_def& s, const std::string& path, int attempt, rendered_notification note,
                        store::write_batch& batch) {
    record(r, core::run_event::step_started, {{"path", path}, {"id", s.id}, {"type", core::to_string(s.type)}, {"attempt", attempt}}, batch);
    log_notification(note, r.rec.id, path);
    core::json output = note.body;
    output["delivered"] = true;
    output["channel"] = "log";
    feed(r, {{"type", "step.notification"}, {"time", core::format_time(core::now_ms())}, {"step", path}, {"channel", note.channel},
             {"notification", note.body}});
    // Settled after this batch is committed, so the log keeps started before finished.
    std::weak_ptr<runner> weak = weak_from_this();
    post_([weak, run = r.rec.id, path, attempt, output = std::move(output)] {
        if (auto self = weak.lock()) self->offload_done(run, path, attempt, output, "");
    });
}

void runner::offload_done(const std::string& run_id, const std::string& path, int attempt, core::json output, std::string error) {
    auto* r = find_live(run_id);
    const auto* rec = r ? r->rec.find(path) : nullptr;
    if (!rec || rec->state != core::step_state::running || rec->attempts != attempt) return;
    const auto state = error.empty() ? core::step_state::succeeded : core::step_state::failed;  // before error is moved
    settle(*r, path, state, std::move(output), std::move(error));
    advance(*r);
}

}  // namespace orbitmesh::engine
