#pragma once
// Private to transport/*.cpp: OpenSSL through Asio's ssl::context and Beast's ssl_stream
// (Boost 1.74: `beast::ssl_stream<beast::tcp_stream>`; no newer-Beast idioms).
#include <memory>
#include <string>

#include "transport/beast.hpp"
#include "transport/tls_options.hpp"

#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>

namespace orbitmesh::transport {

namespace ssl = boost::asio::ssl;
using tls_stream = beast::ssl_stream<beast::tcp_stream>;

/// The hub's context: its certificate and key, TLS 1.2 or later, and with a client CA, client
/// certificates asked for and verified (a connection without one still completes: /mesh then
/// refuses it, plain HTTP clients need none). Throws core::error{usage} naming the file and the cause.
std::shared_ptr<ssl::context> make_server_tls(const tls_server_files& files);

/// A client's context: the hub is verified against `ca_file` or the system store; with
/// cert_file/key_file the client presents its own certificate. Throws core::error{usage}.
std::shared_ptr<ssl::context> make_client_tls(const tls_client_files& files);

/// Before a client handshake: SNI, and the name (or IP address) the hub's certificate must carry.
void expect_server_name(tls_stream& stream, const std::string& host);

/// The CN of the peer's verified certificate; empty when it sent none, it did not verify, or its
/// subject has no single, NUL-free CN.
std::string peer_common_name(tls_stream& stream);

/// One line for a failed handshake: the certificate verification error when there is one
/// ("certificate verify failed: self-signed certificate"), else OpenSSL's or the socket's reason.
std::string describe_tls_failure(const error_code& ec, tls_stream& stream);

/// True when a server handshake failed because the client spoke plain HTTP to the TLS port.
bool is_plain_http(const error_code& ec);
/// True for an error the TLS layer reported (an alert from the peer, a protocol error).
bool is_tls_error(const error_code& ec);

/// True when the failure is our side refusing the peer's certificate (not trusted, wrong name, expired).
bool is_certificate_failure(tls_stream& stream);
/// Why the peer's certificate was refused ("self-signed certificate"); empty when it was not.
std::string certificate_problem(tls_stream& stream);

}  // namespace orbitmesh::transport
