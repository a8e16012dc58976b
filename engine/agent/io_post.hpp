#pragma once
#include <functional>

namespace boost::asio {
class io_context;
}

namespace orbitmesh::engine::agent {

/// Queues `fn` to run on `io`'s thread. Thread-safe; keeps Asio headers out of the callers.
void post_to(boost::asio::io_context& io, std::function<void()> fn);
/// True when the calling thread is running `io`.
bool running_in(boost::asio::io_context& io);

}  // namespace orbitmesh::engine::agent
