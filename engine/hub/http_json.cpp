#include "engine/hub/http_json.hpp"

#include <algorithm>
#include <charconv>

#include "core/duration.hpp"
#include "engine/hub/hub_log.hpp"

namespace orbitmesh::engine {

using transport::http_request;
using transport::http_response;

void reply_on_strand(const strand_post& post, const http_request& req, transport::http_reply reply,
                     std::function<void(const json_reply&)> fn) {
    post([what = req.method + " " + req.path, reply = std::move(reply), fn = std::move(fn)] {
        json_reply answer = [reply](int status, core::json body) { reply(json_response(status, body)); };
        try {
            fn(answer);
        } catch (const core::error& e) {
            reply(error_response(e));
        } catch (const std::exception& e) {
            reply(internal_error_response(what, e));
        }
    });
}

http_response json_response(int status, const core::json& body) {
    http_response r;
    r.status = status;
    r.body = body.dump(-1, ' ', false, core::json::error_handler_t::replace);
    return r;
}

http_response error_response(const core::error& e) {
    return json_response(core::http_status(e.kind()), {{"error", core::to_string(e.kind())}, {"message", e.what()}});
}

std::int64_t query_duration(const http_request& req, const std::string& key) {
    auto it = req.query.find(key);
    if (it == req.query.end() || it->second.empty()) return 0;
    auto ms = core::parse_duration_or_throw(it->second, "query parameter \"" + key + "\"");
    return std::min<std::int64_t>(ms, 300'000);  // long polls are capped; clients poll again
}

std::int64_t query_int(const http_request& req, const std::string& key, std::int64_t fallback) {
    auto it = req.query.find(key);
    if (it == req.query.end() || it->second.empty()) return fallback;
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), v);
    if (ec != std::errc() || p != it->second.data() + it->second.size() || v < 0)
        throw core::error(core::error_kind::invalid_input,
                          "query parameter \"" + key + "\" must be a non-negative integer, got \"" + it->second + "\"");
    return v;
}

core::json parse_body(const http_request& req) {
    if (req.body.empty()) return core::json::object();
    try {
        return core::json::parse(req.body);
    } catch (const core::json::parse_error& e) {
        throw core::error(core::error_kind::invalid_input,
                          "request body is not valid JSON: syntax error at byte " + std::to_string(e.byte) + " of " +
                              std::to_string(req.body.size()));
    }
}

core::field_reader body_fields(core::json& body) {
    return core::field_reader(body, "request body", core::error_kind::invalid_input);
}

http_response internal_error_response(const std::string& what, const std::exception& e) {
    hub_log("error: internal error handling " + what + ": " + e.what());
    return json_response(500, {{"error", core::to_string(core::error_kind::internal)},
                               {"message", "internal error handling " + what + "; the hub logged the details"}});
}

}  // namespace orbitmesh::engine
