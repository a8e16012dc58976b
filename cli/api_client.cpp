#include "cli/api_client.hpp"

#include <cctype>
#include <cstdlib>
#include <fstream>

#include "cli/tls_flags.hpp"
#include "core/error.hpp"

namespace orbitmesh::cli {

namespace {

std::string trimmed(std::string t) {
    auto blank = [](unsigned char c) { return std::isspace(c) != 0; };
    while (!t.empty() && blank(static_cast<unsigned char>(t.back()))) t.pop_back();
    std::size_t start = 0;
    while (start < t.size() && blank(static_cast<unsigned char>(t[start]))) ++start;
    return t.substr(start);
}

/// The path of a request target, without its query (which may hold an access token).
std::string path_of(const std::string& target) { return target.substr(0, target.find('?')); }

}  // namespace

std::string resolve_token(const std::string& token, const std::string& token_file) {
    if (!token.empty() && !token_file.empty())
        throw core::error(core::error_kind::usage, "give either --token or --token-file, not both");
    if (!token.empty()) return trimmed(token);
    if (!token_file.empty()) {
        std::ifstream in(token_file);
        if (!in) throw core::error(core::error_kind::usage, "cannot read --token-file " + token_file + " (check the path and its permissions)");
        std::string t;
        std::getline(in, t);
        t = trimmed(t);
        if (t.empty()) throw core::error(core::error_kind::usage, "--token-file " + token_file + " is empty (its first line must be the token)");
        return t;
    }
    if (const char* env = std::getenv("ORBITMESH_TOKEN")) return trimmed(env);
    return {};
}

std::string resolve_server(const std::string& flag) {
    if (!flag.empty()) return flag;
    if (const char* env = std::getenv("ORBITMESH_SERVER"); env && *env) return env;
    return "http://127.0.0.1:7420";
}

std::string url_encode(const std::string& s) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

api_client::api_client(const global_options& g)
    : url_(core::parse_server_url(resolve_server(g.server))),
      http_(std::make_unique<transport::http_client>(url_, resolve_token(g.token, g.token_file),
                                                     resolve_client_tls(transport::tls_client_files{g.ca_file, {}, {}}))) {}

core::json api_client::get(const std::string& target, std::chrono::milliseconds timeout) {
    return call("GET", target, {}, timeout);
}

core::json api_client::post(const std::string& target, const core::json& body, std::chrono::milliseconds timeout) {
    return call("POST", target, body.dump(), timeout);
}

core::json api_client::patch(const std::string& target, const core::json& body, std::chrono::milliseconds timeout) {
    return call("PATCH", target, body.dump(), timeout);
}

core::json api_client::call(const std::string& method, const std::string& target, const std::string& body,
                            std::chrono::milliseconds timeout) {
    auto res = http_->request(method, target, body, timeout);
    core::json j;
    try {
        j = res.body.empty() ? core::json::object() : core::json::parse(res.body);
    } catch (const core::json::exception&) {
        throw core::error(core::error_kind::unavailable, "the server at " + url_.host_port() + " answered " + method +
                                                             " " + target + " with HTTP " + std::to_string(res.status) +
                                                             " and a body that is not JSON (is it an OrbitMesh hub?)");
    }
    const std::string error = j.is_object() ? j.value("error", std::string{}) : std::string{};
    if (res.status == 401 || res.status == 403 || error == "rate_limited") {
        // Cannot authenticate (SPEC §1: exit 3): say which hub and request, then the hub's reason.
        auto why = j.is_object() ? j.value("message", "HTTP " + std::to_string(res.status)) : "HTTP " + std::to_string(res.status);
        throw core::error(core::error_kind::unauthorized,
                          "the hub at " + url_.host_port() + " refused " + method + " " + path_of(target) + ": " + why);
    }
    if (res.status >= 400) {
        auto kind = core::kind_from_http_status(res.status);
        throw core::error(kind, j.is_object() ? j.value("message", "HTTP " + std::to_string(res.status))
                                              : "HTTP " + std::to_string(res.status));
    }
    return j;
}

}  // namespace orbitmesh::cli
