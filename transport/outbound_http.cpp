// Outbound HTTP/1.1 for http steps: resolve, check every address, one bounded exchange.
#include "transport/outbound_http.hpp"

#include <optional>

#include "core/error.hpp"
#include "transport/beast.hpp"

namespace orbitmesh::transport {

namespace {

using clock = std::chrono::steady_clock;

struct exchange_state {
    const outbound_request& req;
    const address_check& allowed;
    std::string refused;  // why the last address was refused
    std::optional<http::response_parser<http::string_body>> parser;
};

net::awaitable<error_code> exchange(net::io_context& io, exchange_state& st, clock::time_point deadline) {
    error_code ec;
    tcp::resolver resolver(io);
    auto results = co_await resolver.async_resolve(st.req.host, std::to_string(st.req.port), with_ec(ec));
    if (ec) co_return ec;
    beast::tcp_stream stream(io);
    bool connected = false;
    for (const auto& entry : results) {
        const auto ep = entry.endpoint();
        if (auto why = st.allowed(ep.address().to_string(), ep.port()); !why.empty()) {
            st.refused = why;
            continue;
        }
        stream.expires_at(deadline);
        co_await stream.async_connect(ep, with_ec(ec));
        if (!ec) {
            connected = true;
            break;
        }
        stream.close();
    }
    if (!connected) co_return st.refused.empty() ? ec : net::error::access_denied;
    http::request<http::string_body> req;
    req.method_string(st.req.method);
    req.target(st.req.target);
    req.version(11);
    req.set(http::field::host, st.req.port == 80 ? st.req.host : st.req.host + ":" + std::to_string(st.req.port));
    req.set(http::field::user_agent, "orbitmesh-hub");
    for (const auto& [k, v] : st.req.headers) req.set(k, v);
    req.body() = st.req.body;
    req.keep_alive(false);
    req.prepare_payload();
    stream.expires_at(deadline);
    co_await http::async_write(stream, req, with_ec(ec));
    if (ec) co_return ec;
    beast::flat_buffer buffer;
    st.parser.emplace();
    st.parser->body_limit(st.req.max_response);
    st.parser->header_limit(64 * 1024);
    if (st.req.method == "HEAD") st.parser->skip(true);
    // Beast 1.74 lets a Content-Length past body_limit through: check it once the header is in.
    co_await http::async_read_header(stream, buffer, *st.parser, with_ec(ec));
    if (ec) co_return ec;
    if (auto len = st.parser->content_length(); len && *len > st.req.max_response) co_return http::error::body_limit;
    if (!st.parser->is_done()) co_await http::async_read(stream, buffer, *st.parser, with_ec(ec));
    error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    co_return ec;
}

}  // namespace

outbound_response send_outbound(const outbound_request& req, const address_check& allowed) {
    net::io_context io;
    exchange_state st{req, allowed, {}, std::nullopt};
    error_code result;
    std::exception_ptr failure;
    const auto deadline = clock::now() + req.timeout;
    net::co_spawn(io, exchange(io, st, deadline), [&](std::exception_ptr e, error_code ec) {
        failure = e;
        result = ec;
    });
    io.run();
    if (failure) std::rethrow_exception(failure);
    const std::string where = req.host + ":" + std::to_string(req.port);
    if (result == net::error::access_denied && !st.refused.empty())
        throw core::error(core::error_kind::invalid_input, "the hub does not send requests to " + st.refused);
    if (result == beast::error::timeout)
        throw core::error(core::error_kind::timeout, "no answer from " + where + " within " + std::to_string(req.timeout.count()) + "ms");
    if (result == http::error::body_limit)
        throw core::error(core::error_kind::invalid_input, "the response of " + where + " is larger than " +
                                                               std::to_string(req.max_response) + " bytes");
    if (result) throw core::error(core::error_kind::unavailable, "request to " + where + " failed: " + result.message());
    outbound_response out;
    auto& res = st.parser->get();
    out.status = static_cast<int>(res.result_int());
    for (const auto& f : res) out.headers.emplace_back(std::string(to_sv(f.name_string())), std::string(to_sv(f.value())));
    out.body = std::move(res.body());
    return out;
}

}  // namespace orbitmesh::transport
