#include "engine/hub/http_json.hpp"

#include <algorithm>
#include <charconv>

#include "core/duration.hpp"

namespace orbitmesh::engine {

using transport::http_request;
using transport::http_response;

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
    } catch (const core::json::exception& e) {
        throw core::error(core::error_kind::invalid_input, std::string("request body is not valid JSON: ") + e.what());
    }
}

std::vector<std::string> path_segments(const std::string& path) {
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

}  // namespace orbitmesh::engine
