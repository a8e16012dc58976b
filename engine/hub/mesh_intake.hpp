#pragma once
#include <memory>

#include "engine/hub/hub.hpp"
#include "transport/mesh_peer.hpp"

namespace orbitmesh::engine {

/// The hub's side of `/mesh` for transport::server: every message is parsed into its
/// core::protocol struct on the connection's own thread, before the hub sees it. One that does not
/// parse closes that connection with 1007 and a reason naming the field (the link logs the close);
/// other connections carry on. `on_upgrade` is left empty (every upgrade accepted) for the caller to set.
transport::mesh_handler make_mesh_handler(std::shared_ptr<hub> h);

}  // namespace orbitmesh::engine
