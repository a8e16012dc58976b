#include "engine/hub/mesh_identity.hpp"

#include "core/error.hpp"
#include "core/json.hpp"

namespace orbitmesh::engine {

namespace {

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

}  // namespace

upgrade_check require_client_certificate(upgrade_check next) {
    return [next = std::move(next)](transport::http_request& req) -> std::optional<transport::http_response> {
        if (req.tls_subject.empty()) {
            transport::http_response r;
            r.status = core::http_status(core::error_kind::unauthorized);
            r.body = core::json{{"error", core::to_string(core::error_kind::unauthorized)},
                                {"message", "this hub requires agents to present a client certificate signed by its "
                                            "--client-ca, with the agent's name as CN (agent --tls-cert/--tls-key)"}}
                         .dump();
            return r;
        }
        return next ? next(req) : std::nullopt;
    };
}

std::optional<std::string> hello_identity_problem(const std::string& subject, bool certificates_required,
                                                  const core::protocol::hello& m, const std::string* known_name) {
    if (subject.empty()) {
        if (certificates_required) return std::string("this hub requires a client certificate on /mesh");
        return std::nullopt;
    }
    if (m.name != subject)
        return "client certificate is for " + quoted(subject) + ", not " + quoted(m.name) + " (run it with --name " +
               subject + ")";
    if (known_name && *known_name != subject)
        return "agent id " + m.agent_id + " is " + quoted(*known_name) + "'s: the certificate for " + quoted(subject) +
               " cannot take it (use another --data-dir)";
    return std::nullopt;
}

}  // namespace orbitmesh::engine
