#include "cli/api_client.hpp"

#include <cctype>
#include <cstdlib>
#include <fstream>

#include "cli/tls_flags.hpp"
#include "core/error.hpp"

namespace orbitmesh::cli {

namespace {

std::string read_token(const global_options& g) {
    if (!g.token.empty()) return g.token;
    if (!g.token_file.empty()) {
        std::ifstream in(g.token_file);
        if (!in) throw core::error(core::error_kind::usage, "cannot read --token-file " + g.token_file);
        std::string t;
        std::getline(in, t);
        return t;
    }
    if (const char* env = std::getenv("ORBITMESH_TOKEN")) return env;
    return {};
}

}  // namespace

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
      http_(std::make_unique<transport::http_client>(url_, read_token(g),
                                                     resolve_client_tls(transport::tls_client_files{g.ca_file, {}, {}}))) {}

core::json api_client::get(const std::string& target, std::chrono::milliseconds timeout) {
    return call("GET", target, {}, timeout);
}

core::json api_client::post(const std::string& target, const core::json& body, std::chrono::milliseconds timeout) {
    return call("POST", target, body.dump(), timeout);
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
    if (res.status >= 400) {
        auto kind = core::kind_from_http_status(res.status);
        throw core::error(kind, j.is_object() ? j.value("message", "HTTP " + std::to_string(res.status))
                                              : "HTTP " + std::to_string(res.status));
    }
    return j;
}

}  // namespace orbitmesh::cli
