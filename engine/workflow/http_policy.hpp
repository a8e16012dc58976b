#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace orbitmesh::engine {

/// Where `http` steps may send requests from the hub (serve --http-allow). Rules: `*` (any
/// target), `HOST`, `*.DOMAIN`, `IP` or `CIDR`, each optionally `:PORT` (`[v6]:PORT`). Without
/// rules every target is allowed except the protected ones; with rules only matching targets
/// are. Protected, whatever `*` says: the hub itself (its port on a local address), link-local
/// and cloud metadata addresses (169.254.0.0/16, fe80::/10, fd00:ec2::254, 100.100.100.200)
/// and unspecified addresses (0.0.0.0, ::). A rule that names one of those explicitly (its
/// host, its address, or a CIDR other than 0.0.0.0/0 that holds it) allows it. Thread-safe.
class http_policy {
public:
    http_policy() = default;
    /// Throws core::error{usage} naming the bad rule.
    explicit http_policy(std::vector<std::string> rules);

    /// The hub's own listening address, to refuse requests to it.
    void set_hub(std::string host, std::uint16_t port);

    /// "" when a request to `host` (as written in the URL) resolved to `ip`:`port` may go out;
    /// otherwise why not, for the step's error.
    std::string check(const std::string& host, const std::string& ip, std::uint16_t port) const;

private:
    struct rule {
        std::string text;
        std::string host;          // lower case; "*" or "*.domain" or a name; "" for address rules
        std::vector<unsigned char> net;  // 4 or 16 bytes
        int prefix = -1;           // -1: host rule
        int port = 0;              // 0 = any
        bool any = false;
    };
    bool matches(const rule& r, const std::string& host, const std::vector<unsigned char>& ip, std::uint16_t port) const;
    std::string protected_reason(const std::vector<unsigned char>& ip, std::uint16_t port) const;
    bool names_explicitly(const std::string& host, const std::vector<unsigned char>& ip, std::uint16_t port) const;

    std::vector<rule> rules_;
    std::string hub_host_;
    std::uint16_t hub_port_ = 0;
};

}  // namespace orbitmesh::engine
