#pragma once
#include <string>

namespace orbitmesh::engine::auth {

/// True for addresses only this machine can reach: 127.0.0.0/8, ::1, ::ffff:127.x, "localhost".
bool is_loopback(const std::string& host);

/// `serve --auth MODE [--insecure-no-auth]` on `host` (SPEC §8): whether tokens are required.
/// `requested` "" is the default: none on loopback, token anywhere else. "none" on a non-loopback
/// address is refused — core::error{usage}, one line saying why and what to do — unless
/// `insecure_no_auth`. Throws core::error{usage} for a mode that is neither.
bool tokens_required(const std::string& host, const std::string& requested, bool insecure_no_auth);

}  // namespace orbitmesh::engine::auth
