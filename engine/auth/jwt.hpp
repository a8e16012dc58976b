#pragma once
#include <memory>
#include <string>
#include <string_view>

#include "core/json.hpp"

namespace orbitmesh::engine::auth {

/// The signature algorithms a hub can be set to. One is fixed per hub, by its key: the `alg` a
/// token's header names is compared with it and never chooses anything.
enum class jwt_alg { hs256, rs256, es256 };

/// "HS256", "RS256", "ES256": what the header of a token of this algorithm says.
std::string_view jwt_alg_name(jwt_alg a) noexcept;

/// Tokens are bounded before anything is decoded: the whole text, and its header segment.
inline constexpr std::size_t max_token_bytes = 8192;
inline constexpr std::size_t max_jwt_header_bytes = 512;

/// A JWS compact-serialization signer/verifier over OpenSSL with one pinned algorithm.
/// Immutable after construction; sign() and verify() are thread-safe.
class jwt_key {
public:
    /// HMAC-SHA256 with `secret` (at least 32 bytes).
    static jwt_key hs256(std::string secret);
    /// An RSA (≥ 2048 bits: RS256) or EC P-256 (ES256) key from PEM text, private (sign and
    /// verify) or public (verify only). `what` names the source in errors ("--jwt-key FILE").
    /// Throws core::error{usage} for anything else.
    static jwt_key from_pem(std::string_view pem, const std::string& what);

    jwt_alg alg() const noexcept { return alg_; }
    bool can_sign() const noexcept;
    /// `header.payload.signature` for these claims. Throws core::error{usage} for a public key.
    std::string sign(const core::json& claims) const;
    /// The payload of `token` when its header is `{"alg": <this key's>, ...}` with nothing this
    /// code does not understand (`crit`), and its signature verifies with this key. Checks sizes
    /// first and decodes the payload only after the signature verified. Throws
    /// core::error{unauthorized} naming the first check that failed; the claims are the caller's.
    core::json verify(std::string_view token) const;

private:
    struct state;
    jwt_key(jwt_alg alg, std::shared_ptr<const state> s) : alg_(alg), state_(std::move(s)) {}

    jwt_alg alg_;
    std::shared_ptr<const state> state_;
};

/// base64url without padding (RFC 7515 §2), exposed for tests and the key file.
std::string base64url_encode(std::string_view bytes);
/// Decodes base64url without padding; false for any character outside the alphabet or a bad length.
bool base64url_decode(std::string_view text, std::string& out);

}  // namespace orbitmesh::engine::auth
