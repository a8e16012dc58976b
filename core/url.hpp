#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace orbitmesh::core {

/// A server address as users write it: `http(s)://HOST:PORT[/path]`, `ws(s)://HOST:PORT/mesh`,
/// or a bare `HOST:PORT`.
struct server_url {
    bool tls = false;
    std::string host;
    std::uint16_t port = 7420;
    std::string path;  // "" when none was given

    /// `HOST:PORT` (IPv6 hosts in brackets).
    std::string host_port() const;
};

/// Throws core::error{usage} with the accepted forms when `text` is not a server address.
server_url parse_server_url(std::string_view text);

}  // namespace orbitmesh::core
