#pragma once
// Private to transport/*.cpp: Beast is heavy, so it never appears in a public header.
#include <string_view>

#include "transport/asio.hpp"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

namespace orbitmesh::transport {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace websocket = boost::beast::websocket;
using tcp = boost::asio::ip::tcp;
using error_code = boost::system::error_code;

/// Beast 1.74 speaks boost::string_view; everything else speaks std::string_view.
inline std::string_view to_sv(beast::string_view s) { return {s.data(), s.size()}; }

/// `use_awaitable` that stores the error in `ec` instead of throwing (expected I/O outcomes).
inline auto with_ec(error_code& ec) { return net::redirect_error(net::use_awaitable, ec); }

}  // namespace orbitmesh::transport
