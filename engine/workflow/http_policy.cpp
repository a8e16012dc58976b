// The allow-list of http steps: parsing rules, protected addresses, matching resolved targets.
#include "engine/workflow/http_policy.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "core/error.hpp"

namespace orbitmesh::engine {

namespace {

using bytes = std::vector<unsigned char>;

// 4 bytes for IPv4 (IPv4-mapped IPv6 included), 16 for IPv6, empty when not an address.
bytes parse_ip(const std::string& text) {
    unsigned char buf[16];
    if (::inet_pton(AF_INET, text.c_str(), buf) == 1) return bytes(buf, buf + 4);
    std::string t = text;
    if (t.size() > 2 && t.front() == '[' && t.back() == ']') t = t.substr(1, t.size() - 2);
    if (::inet_pton(AF_INET6, t.c_str(), buf) != 1) return {};
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(buf, mapped, 12) == 0) return bytes(buf + 12, buf + 16);
    return bytes(buf, buf + 16);
}

bool in_net(const bytes& ip, const bytes& net, int prefix) {
    if (ip.size() != net.size()) return false;
    for (int bit = 0; bit < prefix; ++bit) {
        const int mask = 0x80 >> (bit % 8);
        if ((ip[static_cast<std::size_t>(bit / 8)] & mask) != (net[static_cast<std::size_t>(bit / 8)] & mask)) return false;
    }
    return true;
}

bool in_cidr(const bytes& ip, const char* cidr) {
    std::string c = cidr;
    auto slash = c.find('/');
    return in_net(ip, parse_ip(c.substr(0, slash)), std::stoi(c.substr(slash + 1)));
}

std::string lower(std::string s) {
    for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return s;
}

bool is_local_address(const bytes& ip) {
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) return false;
    bool found = false;
    for (ifaddrs* a = list; a && !found; a = a->ifa_next) {
        if (!a->ifa_addr) continue;
        if (a->ifa_addr->sa_family == AF_INET) {
            const auto* in = reinterpret_cast<const sockaddr_in*>(a->ifa_addr);
            const auto* p = reinterpret_cast<const unsigned char*>(&in->sin_addr);
            found = ip == bytes(p, p + 4);
        } else if (a->ifa_addr->sa_family == AF_INET6) {
            const auto* in6 = reinterpret_cast<const sockaddr_in6*>(a->ifa_addr);
            const auto* p = reinterpret_cast<const unsigned char*>(&in6->sin6_addr);
            found = ip == bytes(p, p + 16);
        }
    }
    ::freeifaddrs(list);
    return found;
}

// Splits "host:port", "[v6]:port", "cidr:port"; a bare IPv6 address has no port.
std::pair<std::string, int> split_port(const std::string& text) {
    if (!text.empty() && text.front() == '[') {
        auto close = text.find(']');
        if (close != std::string::npos && close + 1 < text.size() && text[close + 1] == ':')
            return {text.substr(1, close - 1), std::stoi(text.substr(close + 2))};
        return {text.substr(1, close == std::string::npos ? std::string::npos : close - 1), 0};
    }
    auto colon = text.rfind(':');
    if (colon == std::string::npos || text.find(':') != colon) return {text, 0};
    return {text.substr(0, colon), std::stoi(text.substr(colon + 1))};
}

}  // namespace

http_policy::http_policy(std::vector<std::string> rules) {
    for (const auto& text : rules) {
        rule r;
        r.text = text;
        try {
            auto [what, port] = split_port(text);
            if (port < 0 || port > 65535) throw std::out_of_range("port");
            r.port = port;
            auto slash = what.find('/');
            auto net = parse_ip(what.substr(0, slash));
            if (what == "*") {
                r.any = true;
            } else if (!net.empty()) {
                r.net = net;
                r.prefix = slash == std::string::npos ? static_cast<int>(net.size() * 8) : std::stoi(what.substr(slash + 1));
                if (r.prefix < 0 || r.prefix > static_cast<int>(net.size() * 8)) throw std::out_of_range("prefix");
            } else if (!what.empty() && what.find_first_of("/ ") == std::string::npos) {
                r.host = lower(what);
            } else {
                throw std::invalid_argument("rule");
            }
        } catch (const std::exception&) {
            throw core::error(core::error_kind::usage, "--http-allow " + text +
                                                           ": use *, HOST, *.DOMAIN, IP or CIDR, each optionally with :PORT");
        }
        rules_.push_back(std::move(r));
    }
}

void http_policy::set_hub(std::string host, std::uint16_t port) {
    hub_host_ = std::move(host);
    hub_port_ = port;
}

bool http_policy::matches(const rule& r, const std::string& host, const bytes& ip, std::uint16_t port) const {
    if (r.port != 0 && r.port != port) return false;
    if (r.any) return true;
    if (r.prefix >= 0) return in_net(ip, r.net, r.prefix);
    if (r.host.size() > 2 && r.host.compare(0, 2, "*.") == 0) {
        const std::string suffix = r.host.substr(1);
        return host.size() > suffix.size() && host.compare(host.size() - suffix.size(), suffix.size(), suffix) == 0;
    }
    return r.host == host;
}

std::string http_policy::protected_reason(const bytes& ip, std::uint16_t port) const {
    if (ip.size() == 4 && (in_cidr(ip, "169.254.0.0/16") || in_cidr(ip, "100.100.100.200/32")))
        return "a link-local or cloud metadata address";
    if (ip.size() == 16 && (in_cidr(ip, "fe80::/10") || in_cidr(ip, "fd00:ec2::254/128")))
        return "a link-local or cloud metadata address";
    if (ip == bytes(ip.size(), 0)) return "an unspecified address (it reaches this machine)";
    if (hub_port_ != 0 && port == hub_port_) {
        const auto hub_ip = parse_ip(hub_host_);
        const bool hub_any = hub_host_.empty() || hub_ip == bytes(hub_ip.size(), 0);
        const bool loopback = (ip.size() == 4 && ip[0] == 127) || ip == bytes{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
        if (loopback || ip == hub_ip || (hub_any && is_local_address(ip))) return "the hub itself";
    }
    return "";
}

bool http_policy::names_explicitly(const std::string& host, const bytes& ip, std::uint16_t port) const {
    for (const auto& r : rules_) {
        if (r.any || (r.port != 0 && r.port != port)) continue;
        if (r.prefix > 0 && in_net(ip, r.net, r.prefix)) return true;
        if (r.prefix < 0 && r.host == host) return true;
    }
    return false;
}

std::string http_policy::check(const std::string& host_in, const std::string& ip_text, std::uint16_t port) const {
    const std::string host = lower(host_in);
    const bytes ip = parse_ip(ip_text);
    if (ip.empty()) return "it is not an IP address: " + ip_text;
    const std::string target = ip_text + ":" + std::to_string(port);
    if (auto why = protected_reason(ip, port); !why.empty() && !names_explicitly(host, ip, port))
        return target + " is " + why + "; allow it by name with serve --http-allow";
    if (rules_.empty()) return "";
    for (const auto& r : rules_)
        if (matches(r, host, ip, port)) return "";
    return host_in + " (" + target + ") is not in the hub's allow-list (serve --http-allow)";
}

}  // namespace orbitmesh::engine
