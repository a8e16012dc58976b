#include "transport/webhook_client.hpp"

#include "core/duration.hpp"
#include "core/error.hpp"
#include "transport/beast.hpp"

namespace orbitmesh::transport {
namespace {

constexpr std::uint64_t max_webhook_body = 1 << 20;  // the answer is only looked at for its status

std::string name_of(const core::server_url& url) {
    return "webhook http://" + url.host_port() + (url.path.empty() ? "/" : url.path);
}

struct webhook_exchange {
    error_code ec;
    bool connected = false;
    webhook_response response;
};

net::awaitable<void> post_once(const core::server_url& url, const std::string& body, std::chrono::milliseconds timeout,
                               webhook_exchange& out) {
    auto executor = co_await net::this_coro::executor;
    tcp::resolver resolver(executor);
    beast::tcp_stream stream(executor);
    stream.expires_after(timeout);
    auto endpoints = co_await resolver.async_resolve(url.host, std::to_string(url.port), with_ec(out.ec));
    if (out.ec) co_return;
    co_await stream.async_connect(endpoints, with_ec(out.ec));
    if (out.ec) co_return;
    out.connected = true;
    http::request<http::string_body> req{http::verb::post, url.path.empty() ? "/" : url.path, 11};
    req.set(http::field::host, url.host_port());
    req.set(http::field::user_agent, "orbitmesh-notify");
    req.set(http::field::content_type, "application/json");
    req.body() = body;
    req.keep_alive(false);
    req.prepare_payload();
    co_await http::async_write(stream, req, with_ec(out.ec));
    if (out.ec) co_return;
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(max_webhook_body);
    co_await http::async_read(stream, buffer, parser, with_ec(out.ec));
    if (out.ec) co_return;
    out.response.status = static_cast<int>(parser.get().result_int());
    out.response.body = std::move(parser.get().body());
    error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
}

}  // namespace

webhook_response post_webhook(const core::server_url& url, const std::string& body, std::chrono::milliseconds timeout) {
    if (url.tls)
        throw core::error(core::error_kind::usage, name_of(url) + ": https:// webhooks are not supported by this build yet");
    net::io_context io;
    webhook_exchange out;
    std::exception_ptr failure;
    net::co_spawn(io, post_once(url, body, timeout, out), [&](std::exception_ptr e) { failure = e; });
    io.run();
    if (failure) std::rethrow_exception(failure);
    if (out.ec == beast::error::timeout)
        throw core::error(core::error_kind::timeout, name_of(url) + ": no answer within " + core::format_timeout(timeout.count()));
    if (out.ec)
        throw core::error(core::error_kind::unavailable,
                          name_of(url) + (out.connected ? ": connection lost: " : ": cannot connect: ") + out.ec.message());
    return std::move(out.response);
}

}  // namespace orbitmesh::transport
