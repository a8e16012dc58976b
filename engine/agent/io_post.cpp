#include "engine/agent/io_post.hpp"

#include "transport/asio.hpp"

namespace orbitmesh::engine::agent {

void post_to(net::io_context& io, std::function<void()> fn) { net::post(io, std::move(fn)); }

bool running_in(net::io_context& io) { return io.get_executor().running_in_this_thread(); }

}  // namespace orbitmesh::engine::agent
