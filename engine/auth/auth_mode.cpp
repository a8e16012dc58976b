#include "engine/auth/auth_mode.hpp"

#include <arpa/inet.h>

#include <cstring>

#include "core/error.hpp"

namespace orbitmesh::engine::auth {

bool is_loopback(const std::string& host) {
    std::string h = host;
    if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
    if (h == "localhost") return true;
    in_addr v4{};
    if (::inet_pton(AF_INET, h.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
    in6_addr v6{};
    if (::inet_pton(AF_INET6, h.c_str(), &v6) != 1) return false;
    static const unsigned char loopback6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    if (std::memcmp(v6.s6_addr, loopback6, 16) == 0) return true;
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return std::memcmp(v6.s6_addr, mapped, 12) == 0 && v6.s6_addr[12] == 127;
}

bool tokens_required(const std::string& host, const std::string& requested, bool insecure_no_auth) {
    const bool loopback = is_loopback(host);
    if (requested.empty()) return !loopback;
    if (requested == "token") return true;
    if (requested != "none") throw core::error(core::error_kind::usage, "--auth must be none or token, got \"" + requested + "\"");
    if (!loopback && !insecure_no_auth)
        throw core::error(core::error_kind::usage,
                          "refusing --auth none on " + (host.empty() ? std::string("0.0.0.0") : host) +
                              ": anyone who reaches that address could run commands on every agent; use --auth token "
                              "(mint a first admin token with `orbitmesh token create --data-dir DIR --role admin`), "
                              "or add --insecure-no-auth if this network is trusted");
    return false;
}

}  // namespace orbitmesh::engine::auth
