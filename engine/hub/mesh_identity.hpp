#pragma once
// Who an agent connection may register as, when the hub runs mutual TLS (`serve --client-ca`).
// The transport verifies the certificate and hands over its CN (http_request::tls_subject); this
// is the hub's rule on top of it, kept apart from the hub's state machine so an auth module can
// take it over (tokens name the agent the same way).
#include <functional>
#include <optional>
#include <string>

#include "core/agent_messages.hpp"
#include "transport/http_types.hpp"

namespace orbitmesh::engine {

/// The shape of mesh_handler::on_upgrade: may annotate the request (its `context`), or refuse it.
using upgrade_check = std::function<std::optional<transport::http_response>(transport::http_request&)>;

/// An upgrade check for `/mesh` that refuses (401, JSON error) a connection whose TLS handshake
/// verified no client certificate with a CN, then asks `next` (the token gate; may be empty) about
/// the rest. A verified certificate is itself a credential there (authenticator::identify).
upgrade_check require_client_certificate(upgrade_check next);

/// Why `hello` may not register on a connection whose certificate names `subject` (empty: none),
/// or nullopt when it may. With a subject, the hello's name must be the subject, and an agent id
/// the hub knows under another name (`known_name`, null when the id is new) cannot be taken over.
/// Without one it may only when certificates are not required.
std::optional<std::string> hello_identity_problem(const std::string& subject, bool certificates_required,
                                                  const core::protocol::hello& m, const std::string* known_name);

}  // namespace orbitmesh::engine
