#pragma once
// Private to transport/: one HTTP/1.1 connection on the hub's listener.
#include <memory>
#include <optional>
#include <string>

#include "transport/beast.hpp"
#include "transport/server_context.hpp"

namespace orbitmesh::transport {

/// Serves requests one at a time (keep-alive) and hands `/mesh` upgrades to a ws_session.
/// Everything runs on the connection's strand; replies may come from any thread.
class http_session final : public closable, public std::enable_shared_from_this<http_session> {
public:
    http_session(std::shared_ptr<server_context> ctx, tcp::socket socket, std::uint64_t id, std::string remote);

    /// Starts reading the first request.
    void start();
    void shut_down() override;

private:
    net::awaitable<void> read_request();
    net::awaitable<void> write_response(http::response<http::string_body> res);
    net::awaitable<void> answer_read_error(const error_code& ec);
    std::optional<http_response> check_gate(http_request& head);
    net::awaitable<void> upgrade(http::request<http::string_body> req);
    void dispatch(http_request req, unsigned version, bool keep_alive);
    http_reply make_reply(unsigned version, bool keep_alive);
    void finish();

    std::shared_ptr<server_context> ctx_;
    beast::tcp_stream stream_;
    net::any_io_executor executor_;
    beast::flat_buffer buffer_;
    std::uint64_t id_;
    std::string remote_;
    bool reading_ = false;   // strand only: a read is pending (safe to cut on stop)
    bool first_request_ = true;  // strand only: the handshake deadline applies
    bool upgraded_ = false;  // strand only: stream_ now belongs to a ws_session
    bool finished_ = false;  // strand only
};

}  // namespace orbitmesh::transport
