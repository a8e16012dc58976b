#pragma once
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace orbitmesh::transport {

/// The signature schemes the hub signs with (tokens now, webhooks later): each over SHA-256.
enum class signature_alg { hmac_sha256, rsa_sha256, ecdsa_p256_sha256 };

/// One key with one pinned scheme over OpenSSL's libcrypto; the only place outside TLS that
/// touches OpenSSL (STYLE.md §1: engine/ never does). Immutable; sign() and verify() are
/// thread-safe. Signatures are raw bytes: HMAC's 32, RSA's modulus size, ECDSA's fixed-width r||s.
class signing_key {
public:
    /// HMAC-SHA256 with `secret` (at least 32 bytes; core::error{usage} otherwise).
    static signing_key hmac(std::string secret);
    /// An RSA (≥ 2048 bits) or EC P-256 key from PEM text, private (sign and verify) or public
    /// (verify only). `what` names the source in errors. Throws core::error{usage} for anything else.
    static signing_key from_pem(std::string_view pem, const std::string& what);

    signature_alg alg() const noexcept;
    bool can_sign() const noexcept;
    std::size_t signature_bytes() const noexcept;
    /// The signature of `data`. Throws core::error{internal} when OpenSSL fails, {usage} for a public key.
    std::string sign(std::string_view data) const;
    /// Whether `signature` is this key's over `data` (HMAC compared in constant time).
    bool verify(std::string_view data, std::string_view signature) const;

private:
    struct state;
    explicit signing_key(std::shared_ptr<const state> s) : state_(std::move(s)) {}
    std::shared_ptr<const state> state_;
};

/// HMAC-SHA256 of `data` under `key`: 32 raw bytes.
std::string hmac_sha256(std::string_view key, std::string_view data);
/// Equal lengths and equal bytes, in time that depends only on the length.
bool equal_in_constant_time(std::string_view a, std::string_view b) noexcept;
/// `n` bytes from OpenSSL's CSPRNG; throws core::error{internal} when it has none to give.
std::string random_bytes(std::size_t n);

}  // namespace orbitmesh::transport
