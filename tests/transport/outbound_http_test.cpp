// Outbound requests of http steps against a one-shot server on 127.0.0.1: bounds and the check.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "core/error.hpp"
#include "transport/outbound_http.hpp"

using namespace orbitmesh;

namespace {

/// Accepts one connection, reads the request head, answers `response` verbatim.
struct one_shot_server {
    int fd = -1;
    std::uint16_t port = 0;
    std::string request;
    std::thread thread;

    explicit one_shot_server(std::string response) {
        fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        socklen_t len = sizeof a;
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
        port = ntohs(a.sin_port);
        ::listen(fd, 1);
        thread = std::thread([this, response] {
            int c = ::accept(fd, nullptr, nullptr);
            if (c < 0) return;
            char buf[4096];
            while (request.find("\r\n\r\n") == std::string::npos) {
                auto n = ::read(c, buf, sizeof buf);
                if (n <= 0) break;
                request.append(buf, static_cast<std::size_t>(n));
            }
            std::size_t off = 0;
            while (off < response.size()) {
                auto n = ::write(c, response.data() + off, response.size() - off);
                if (n <= 0) break;
                off += static_cast<std::size_t>(n);
            }
            ::close(c);
        });
    }
    ~one_shot_server() {
        ::shutdown(fd, SHUT_RDWR);
        ::close(fd);
        thread.join();
    }
};

transport::outbound_request get(std::uint16_t port, std::size_t max = 1u << 20) {
    transport::outbound_request r;
    r.host = "127.0.0.1";
    r.port = port;
    r.target = "/x?y=1";
    r.headers = {{"X-Test", "yes"}};
    r.max_response = max;
    r.timeout = std::chrono::milliseconds(5000);
    return r;
}

const transport::address_check allow_all = [](const std::string&, std::uint16_t) { return std::string(); };

}  // namespace

TEST_CASE("outbound http: a response comes back with status, headers and body; the request carries ours") {
    one_shot_server srv("HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1}");
    auto res = transport::send_outbound(get(srv.port), allow_all);
    CHECK(res.status == 201);
    CHECK(res.body == "{\"a\":1}");
    bool typed = false;
    for (const auto& [k, v] : res.headers) typed = typed || (k == "Content-Type" && v == "application/json");
    CHECK(typed);
    CHECK(srv.request.rfind("GET /x?y=1 HTTP/1.1\r\n", 0) == 0);
    CHECK(srv.request.find("X-Test: yes\r\n") != std::string::npos);
}

TEST_CASE("outbound http: a body over the bound fails, with or without Content-Length") {
    one_shot_server sized("HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" + std::string(5000, 'x'));
    CHECK_THROWS_WITH(transport::send_outbound(get(sized.port, 1000), allow_all), Catch::Contains("larger than 1000 bytes"));
    one_shot_server streamed("HTTP/1.0 200 OK\r\n\r\n" + std::string(5000, 'x'));
    CHECK_THROWS_WITH(transport::send_outbound(get(streamed.port, 1000), allow_all), Catch::Contains("larger than 1000 bytes"));
}

TEST_CASE("outbound http: an address the check refuses is never connected to") {
    one_shot_server srv("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    std::atomic<int> asked{0};
    auto refuse = [&](const std::string& ip, std::uint16_t port) {
        ++asked;
        return ip + ":" + std::to_string(port) + " is refused";
    };
    CHECK_THROWS_WITH(transport::send_outbound(get(srv.port), refuse), Catch::Contains("does not send requests to 127.0.0.1"));
    CHECK(asked == 1);
    CHECK(srv.request.empty());
}
