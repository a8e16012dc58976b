#pragma once
// Private to transport/: the hub's side of one agent connection.
#include <memory>
#include <string>

#include "transport/beast.hpp"
#include "transport/mesh_peer.hpp"
#include "transport/server_context.hpp"
#include "transport/ws_link.hpp"

namespace orbitmesh::transport {

/// An upgraded `/mesh` connection: completes the handshake, then feeds the mesh_handler.
/// Callbacks run on the connection's strand, so for one peer they never overlap. `Stream` is
/// `beast::tcp_stream` or `tls_stream` (both instantiated in ws_session.cpp).
template <class Stream>
class ws_session final : public mesh_peer, public closable, public std::enable_shared_from_this<ws_session<Stream>> {
public:
    ws_session(std::shared_ptr<server_context> ctx, Stream stream, std::uint64_t id, http_request upgrade,
               bool json_text);

    /// Accepts the upgrade (answering with `subprotocol` when not empty) and serves the agent
    /// until the connection ends. On the connection's strand.
    net::awaitable<void> serve_agent(http::request<http::string_body> req, std::string subprotocol);

    void send(core::json msg) override;
    void close(int code, std::string reason) override;
    std::string remote_address() const override { return upgrade_.remote; }
    std::uint64_t id() const override { return id_; }
    const http_request& upgrade_request() const override { return upgrade_; }
    void shut_down() override;

private:
    net::awaitable<bool> accept_upgrade(http::request<http::string_body> req, const std::string& subprotocol);
    void notify_open();
    void notify_close(const std::string& reason);

    std::shared_ptr<server_context> ctx_;
    std::uint64_t id_;
    http_request upgrade_;
    std::shared_ptr<basic_ws_link<Stream>> link_;
};

}  // namespace orbitmesh::transport
