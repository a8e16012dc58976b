#include "transport/http_client.hpp"

#include <optional>

#include "core/duration.hpp"
#include "core/error.hpp"
#include "transport/beast.hpp"
#include "transport/tls.hpp"

namespace orbitmesh::transport {
namespace {

using clock = std::chrono::steady_clock;
constexpr std::uint64_t max_response_body = std::uint64_t{1} << 30;

/// A reused keep-alive connection the server had already closed: safe to send again once.
bool is_stale_connection(const error_code& ec) {
    return ec == http::error::end_of_stream || ec == net::error::eof || ec == net::error::connection_reset ||
           ec == net::error::broken_pipe || ec == net::error::connection_aborted ||
           ec == ssl::error::stream_truncated;  // a TLS peer that closed without close_notify
}

}  // namespace

struct http_client::impl {
    impl(core::server_url u, std::string t, const tls_client_files& files)
        : url(std::move(u)), token(std::move(t)), ca_file(files.ca_file) {
        if (url.tls) tls = make_client_tls(files);
    }

    core::server_url url;
    std::string token;
    std::string ca_file;
    std::shared_ptr<ssl::context> tls;   // https:// only
    net::io_context io;
    // At most one is set, while a connection is (believed) open.
    std::optional<beast::tcp_stream> plain;
    std::optional<tls_stream> secure;
    beast::flat_buffer buffer;

    bool connected() const { return plain.has_value() || secure.has_value(); }
    beast::tcp_stream& lowest() { return secure ? beast::get_lowest_layer(*secure) : *plain; }
    /// Runs one coroutine on the private io_context until it finishes.
    error_code run(net::awaitable<error_code> op);
    net::awaitable<error_code> open_connection(clock::time_point deadline);
    net::awaitable<error_code> exchange(http::request<http::string_body>& req,
                                        http::response_parser<http::string_body>& parser,
                                        clock::time_point deadline);
    void connect(clock::time_point deadline, std::chrono::milliseconds timeout);
    void disconnect();
    [[noreturn]] void fail_unreachable(const std::string& cause) const;
    [[noreturn]] void fail_handshake(const error_code& ec);
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
    if (tls) secure.emplace(io, *tls);
    else plain.emplace(io);
    lowest().expires_at(deadline);
    co_await lowest().async_connect(results, with_ec(ec));
    if (!ec) lowest().socket().set_option(tcp::no_delay(true), ec);
    co_return ec;
}

template <class Stream>
net::awaitable<error_code> write_then_read(Stream& stream, beast::flat_buffer& buffer,
                                           http::request<http::string_body>& req,
                                           http::response_parser<http::string_body>& parser) {
    error_code ec;
    co_await http::async_write(stream, req, with_ec(ec));
    if (ec) co_return ec;
    co_await http::async_read(stream, buffer, parser, with_ec(ec));
    co_return ec;
}

net::awaitable<error_code> http_client::impl::exchange(http::request<http::string_body>& req,
                                                       http::response_parser<http::string_body>& parser,
                                                       clock::time_point deadline) {
    lowest().expires_at(deadline);
    if (secure) co_return co_await write_then_read(*secure, buffer, req, parser);
    co_return co_await write_then_read(*plain, buffer, req, parser);
}

void http_client::impl::fail_unreachable(const std::string& cause) const {
    throw core::error(core::error_kind::unavailable,
                      "cannot reach the hub at " + url.host_port() + ": " + cause +
                          " (is `orbitmesh serve` running? set --server or ORBITMESH_SERVER)");
}

void http_client::impl::fail_handshake(const error_code& ec) {
    std::string cause = "TLS handshake failed: ";
    if (is_certificate_failure(*secure)) {
        cause += "the hub's certificate is not trusted (" + certificate_problem(*secure) + "); " +
                 (ca_file.empty() ? "pass --ca FILE (or ORBITMESH_CA) with the CA that signed it"
                                  : "is " + ca_file + " the CA that signed it?");
    } else {
        cause += describe_tls_failure(ec, *secure) + " (is it an https:// hub?)";
    }
    disconnect();
    throw core::error(core::error_kind::unavailable, "cannot reach the hub at " + url.host_port() + ": " + cause);
}

void http_client::impl::connect(clock::time_point deadline, std::chrono::milliseconds timeout) {
    error_code ec = run(open_connection(deadline));
    if (!ec && secure) {
        expect_server_name(*secure, url.host);
        ec = run([](tls_stream& s) -> net::awaitable<error_code> {
            error_code hec;
            co_await s.async_handshake(ssl::stream_base::client, with_ec(hec));
            co_return hec;
        }(*secure));
        if (ec && ec != beast::error::timeout) fail_handshake(ec);
    }
    if (!ec) return;
    disconnect();
    fail_unreachable(ec == beast::error::timeout ? "no answer within " + core::format_timeout(timeout.count()) : ec.message());
}

void http_client::impl::disconnect() {
    if (connected()) {
        error_code ignored;
        lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
        lowest().close();
    }
    plain.reset();
    secure.reset();
    buffer.clear();
}

http_client::http_client(core::server_url url, std::string token, tls_client_files tls)
    : impl_(std::make_unique<impl>(std::move(url), std::move(token), tls)) {}

http_client::~http_client() { impl_->disconnect(); }

http_result http_client::request(const std::string& method, const std::string& target, const std::string& body,
                                 std::chrono::milliseconds timeout) {
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
        bool reused = impl_->connected();
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
                                                             core::format_timeout(timeout.count()));
        impl_->fail_unreachable("connection lost during " + method + " " + target + ": " + ec.message());
    }
}

}  // namespace orbitmesh::transport
