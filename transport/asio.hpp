#pragma once
// The one way into Asio. GCC 12 with Asio 1.18 coroutines needs <utility> before any Asio
// header (STYLE §4), so every file that wants Asio includes this instead of boost/asio directly.
#include <utility>

#include <boost/asio.hpp>

namespace orbitmesh {

namespace net = boost::asio;

}  // namespace orbitmesh
