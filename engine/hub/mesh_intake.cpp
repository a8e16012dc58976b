#include "engine/hub/mesh_intake.hpp"

#include "core/protocol.hpp"

namespace orbitmesh::engine {

transport::mesh_handler make_mesh_handler(std::shared_ptr<hub> h) {
    transport::mesh_handler m;
    m.on_open = [h](const std::shared_ptr<transport::mesh_peer>& p) { h->on_open(p); };
    m.on_message = [h](const std::shared_ptr<transport::mesh_peer>& p, core::json msg) {
        core::protocol::agent_message parsed;
        try {
            parsed = core::protocol::parse_agent_message(std::move(msg));
        } catch (const core::error& e) {  // the close is logged with its reason by the link
            return p->close(core::protocol::close_invalid, e.what());
        }
        h->on_message(p, std::move(parsed));
    };
    m.on_close = [h](const std::shared_ptr<transport::mesh_peer>& p, const std::string& why) { h->on_close(p, why); };
    return m;
}

}  // namespace orbitmesh::engine
