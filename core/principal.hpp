#pragma once
#include <string>

#include "core/role.hpp"

namespace orbitmesh::core {

/// Who is at the other end of a request or an agent connection, as the hub's authenticator
/// (engine/auth/authenticator.hpp) decided it: the one answer every route and /mesh act on.
struct principal {
    enum class source {
        open,         // --auth none: nobody is asked, everyone acts as admin
        token,        // a verified JWT
        certificate,  // a verified client certificate (mutual TLS)
    };
    role granted = role::admin;
    std::string subject = "anonymous";  // the token's name (`sub`), or the certificate's subject
    std::string token_id;               // `jti`; empty when no token was used
    std::string family;                 // refresh family (`fam`); empty for a plain token
    source via = source::open;
};

}  // namespace orbitmesh::core
