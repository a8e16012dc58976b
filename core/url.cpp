#include "core/url.hpp"

#include <charconv>

#include "core/error.hpp"

namespace orbitmesh::core {

std::string server_url::host_port() const {
    bool v6 = host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

server_url parse_server_url(std::string_view text) {
    auto fail = [&](const std::string& why) -> server_url {
        throw error(error_kind::usage, "invalid server address \"" + std::string(text) + "\": " + why +
                                           " (use http://HOST:PORT or ws://HOST:PORT/mesh)");
    };
    server_url u;
    std::string_view rest = text;
    if (auto p = rest.find("://"); p != std::string_view::npos) {
        auto scheme = rest.substr(0, p);
        if (scheme == "https" || scheme == "wss") u.tls = true;
        else if (scheme != "http" && scheme != "ws") return fail("unknown scheme \"" + std::string(scheme) + "\"");
        rest.remove_prefix(p + 3);
    }
    if (auto slash = rest.find('/'); slash != std::string_view::npos) {
        u.path = std::string(rest.substr(slash));
        rest = rest.substr(0, slash);
    }
    std::string_view port_text;
    if (!rest.empty() && rest.front() == '[') {
        auto close = rest.find(']');
        if (close == std::string_view::npos) return fail("unclosed [ in IPv6 address");
        u.host = std::string(rest.substr(1, close - 1));
        if (close + 1 < rest.size()) {
            if (rest[close + 1] != ':') return fail("expected :PORT after the IPv6 address");
            port_text = rest.substr(close + 2);
        }
    } else if (auto colon = rest.rfind(':'); colon != std::string_view::npos) {
        u.host = std::string(rest.substr(0, colon));
        port_text = rest.substr(colon + 1);
        if (port_text.empty()) return fail("empty port");
    } else {
        u.host = std::string(rest);
        u.port = u.tls ? 443 : 7420;
    }
    if (u.host.empty()) return fail("no host");
    if (!port_text.empty()) {
        unsigned value = 0;
        auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
        if (ec != std::errc() || ptr != port_text.data() + port_text.size() || value == 0 || value > 65535)
            return fail("bad port \"" + std::string(port_text) + "\"");
        u.port = static_cast<std::uint16_t>(value);
    }
    return u;
}

}  // namespace orbitmesh::core
