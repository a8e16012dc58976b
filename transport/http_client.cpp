#include "transport/http_client.hpp"

#include <optional>

#include "core/error.hpp"
#include "transport/beast.hpp"

namespace orbitmesh::transport {
namespace {

using clock = std::chrono::steady_clock;
constexpr std::uint64_t max_response_body = std::uint64_t{1} << 30;

std::string seconds_text(std::chrono::milliseconds d) {
    return d.count() % 1000 == 0 ? std::to_string(d.count() / 1000) + "s" : std::to_string(d.count()) + "ms";
}

/// A reused keep-alive connection the server had already closed: safe to send again once.
bool is_stale_connection(const error_code& ec) {
    return ec == http::error::end_of_stream || ec == net::error::eof || ec == net::error::connection_reset ||
           ec == net::error::broken_pipe || ec == net::error::connection_aborted;
}

}  // namespace

struct http_client::impl {
    impl(core::server_url u, std::string t) : url(std::move(u)), token(std::move(t)) {}

    core::server_url url;
    std::string token;
    net::io_context io;
    std::optional<beast::tcp_stream> stream;  // set while a connection is (believed) open
    beast::flat_buffer buffer;

    /// Runs one coroutine on the private io_context until it finishes.
    error_code run(net::awaitable<error_code> op);
    net::awaitable<error_code> open_connection(clock::time_point deadline);
    net::awaitable<error_code> exchange(http::request<http::string_body>& req,
                                        http::response_parser<http::string_body>& parser,
                                        clock::time_point deadline);
    void connect(clock::time_point deadline, std::chrono::milliseconds timeout);
    void disconnect();
    [[noreturn]] void fail_unreachable(const std::string& cause) const;
};

error_code http_client::impl::run(net::awaitable<error_code> op) {
    error_code result;
    std::exception_ptr failure;
    net::co_spawn(io, std::move(op), [&](std::exception_ptr e, error_code ec) {
        failure = e;
        result = ec;
    });
    io.restart();
    io.run();
    if (failure) std::rethrow_exception(failure);
    return result;
}

net::awaitable<error_code> http_client::impl::open_connection(clock::time_point deadline) {
    error_code ec;
    tcp::resolver resolver(io);
    auto results = co_await resolver.async_resolve(url.host, std::to_string(url.port), with_ec(ec));
    if (ec) co_return ec;
    stream.emplace(io);
    stream->expires_at(deadline);
    co_await stream->async_connect(results, with_ec(ec));
    if (!ec) stream->socket().set_option(tcp::no_delay(true), ec);
    co_return ec;
}

net::awaitable<error_code> http_client::impl::exchange(http::request<http::string_body>& req,
                                                       http::response_parser<http::string_body>& parser,
                                                       clock::time_point deadline) {
    error_code ec;
    stream->expires_at(deadline);
    co_await http::async_write(*stream, req, with_ec(ec));
    if (ec) co_return ec;
    co_await http::async_read(*stream, buffer, parser, with_ec(ec));
    co_return ec;
}

void http_client::impl::fail_unreachable(const std::string& cause) const {
    throw core::error(core::error_kind::unavailable,
                      "cannot reach the hub at " + url.host_port() + ": " + cause +
                          " (is `orbitmesh serve` running? set --server or ORBITMESH_SERVER)");
}

void http_client::impl::connect(clock::time_point deadline, std::chrono::milliseconds timeout) {
    error_code ec = run(open_connection(deadline));
    if (!ec) return;
    disconnect();
    fail_unreachable(ec == beast::error::timeout ? "no answer within " + seconds_text(timeout) : ec.message());
}

void http_client::impl::disconnect() {
    if (stream) {
        error_code ignored;
        stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream->close();
    }
    stream.reset();
    buffer.clear();
}

http_client::http_client(core::server_url url, std::string token)
    : impl_(std::make_unique<impl>(std::move(url), std::move(token))) {}

http_client::~http_client() { impl_->disconnect(); }

http_result http_client::request(const std::string& method, const std::string& target, const std::string& body,
                                 std::chrono::milliseconds timeout) {
    if (impl_->url.tls)
        throw core::error(core::error_kind::usage, "cannot reach the hub at " + impl_->url.host_port() +
                                                       ": https:// is not supported by this build yet; use http://");
    http::request<http::string_body> req;
    req.method_string(method);
    req.target(target);
    req.version(11);
    req.set(http::field::host, impl_->url.host_port());
    req.set(http::field::user_agent, "orbitmesh-cli");
    req.set(http::field::accept, "application/json");
    if (!impl_->token.empty()) req.set(http::field::authorization, "Bearer " + impl_->token);
    if (!body.empty()) req.set(http::field::content_type, "application/json");
    req.body() = body;
    req.keep_alive(true);
    req.prepare_payload();

    auto deadline = clock::now() + timeout;
    for (int attempt = 0;; ++attempt) {
        bool reused = impl_->stream.has_value();
        if (!reused) impl_->connect(deadline, timeout);
        http::response_parser<http::string_body> parser;
        parser.body_limit(max_response_body);
        error_code ec = impl_->run(impl_->exchange(req, parser, deadline));
        if (!ec) {
            auto& res = parser.get();
            http_result out{static_cast<int>(res.result_int()), std::move(res.body()),
                            std::string(to_sv(res[http::field::content_type]))};
            if (!res.keep_alive()) impl_->disconnect();
            return out;
        }
        impl_->disconnect();
        if (reused && attempt == 0 && !parser.got_some() && is_stale_connection(ec)) continue;
        if (ec == beast::error::timeout)
            throw core::error(core::error_kind::timeout, "the hub at " + impl_->url.host_port() + " did not answer " +
                                                             method + " " + target + " within " +
                                                             seconds_text(timeout));
        impl_->fail_unreachable("connection lost during " + method + " " + target + ": " + ec.message());
    }
}

}  // namespace orbitmesh::transport
