// Request-response calls from the hub to one agent (protocol invoke/reply, SPEC §2).
#include "core/protocol.hpp"
#include "engine/hub/hub.hpp"
#include "engine/hub/hub_state.hpp"

namespace orbitmesh::engine {

void hub::invoke_agent(const std::string& id_or_name, std::string method, core::json args, std::int64_t timeout_ms,
                       job_reply request) {
    on_strand("invoke_agent", std::move(request), [self = shared_from_this(), id_or_name, method = std::move(method),
                                                 args = std::move(args), timeout_ms](job_reply& reply) {
        auto* a = self->find_agent(id_or_name);
        if (!a)
            return reply({{}, core::error(core::error_kind::not_found,
                                          "agent " + id_or_name + " not found (list agents with `orbitmesh status agents`)")});
        if (!a->peer)
            return reply({{}, core::error(core::error_kind::unavailable, "agent " + a->rec.name + " is not connected")});
        std::string call_id = self->session_prefix_ + "-call-" + std::to_string(++self->call_counter_);
        a->peer->send({{"t", core::protocol::msg::invoke}, {"call_id", call_id}, {"method", method}, {"args", args}});
        hold(self->calls_, *self->deadlines_, call_id, pending_call{a->rec.id, std::move(reply)}, timeout_ms,
             [method](pending_call c) {
                 c.reply({{}, core::error(core::error_kind::timeout, "agent did not answer " + method + " in time")});
             });
    });
}

void hub::handle_reply(core::protocol::reply& m) {
    auto calls = calls_.take_all(m.call_id);
    if (calls.empty()) return;  // timed out already
    auto& cb = calls.front().reply;
    if (m.error) return cb({{}, core::error(core::error_kind::failed, "agent error: " + *m.error)});
    cb({core::json{{"value", std::move(m.value)}}, std::nullopt});
}

}  // namespace orbitmesh::engine
