#include "transport/signing_key.hpp"

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <array>

#include "core/error.hpp"

namespace orbitmesh::transport {

struct signing_key::state {
    signature_alg alg = signature_alg::hmac_sha256;
    std::string secret;       // HMAC
    EVP_PKEY* pkey = nullptr;  // RSA / EC
    bool has_private = false;
    std::size_t signature_bytes = 0;
    state() = default;
    state(const state&) = delete;
    state& operator=(const state&) = delete;
    ~state() { EVP_PKEY_free(pkey); }
};

namespace {

constexpr std::size_t es256_half = 32;

using md_ctx = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;
using ecdsa_sig = std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)>;
using bio_ptr = std::unique_ptr<BIO, decltype(&BIO_free)>;

const unsigned char* bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

[[noreturn]] void internal(const char* what) { throw core::error(core::error_kind::internal, what); }

/// DER ECDSA signature -> fixed-width r||s.
std::string der_to_raw(const std::string& der) {
    const unsigned char* p = bytes(der);
    ecdsa_sig sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())), ECDSA_SIG_free);
    if (!sig) internal("an ECDSA signature could not be converted");
    std::string raw(2 * es256_half, '\0');
    auto* out = reinterpret_cast<unsigned char*>(raw.data());
    if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), out, es256_half) < 0 ||
        BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), out + es256_half, es256_half) < 0)
        internal("an ECDSA signature could not be converted");
    return raw;
}

/// r||s -> DER, or "" when it cannot be one.
std::string raw_to_der(std::string_view raw) {
    ecdsa_sig sig(ECDSA_SIG_new(), ECDSA_SIG_free);
    BIGNUM* r = BN_bin2bn(bytes(raw), es256_half, nullptr);
    BIGNUM* s = BN_bin2bn(bytes(raw) + es256_half, es256_half, nullptr);
    if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
        BN_free(r);
        BN_free(s);
        return {};
    }
    unsigned char* der = nullptr;
    int len = i2d_ECDSA_SIG(sig.get(), &der);
    if (len <= 0) return {};
    std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
    OPENSSL_free(der);
    return out;
}

std::string pkey_sign(EVP_PKEY* key, std::string_view data) {
    md_ctx ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    std::size_t len = 0;
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &len, bytes(data), data.size()) != 1)
        internal("signing failed");
    std::string sig(len, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, bytes(data), data.size()) != 1)
        internal("signing failed");
    sig.resize(len);
    return sig;
}

bool pkey_verify(EVP_PKEY* key, std::string_view data, std::string_view sig) {
    md_ctx ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    bool ok = ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) == 1 &&
              EVP_DigestVerify(ctx.get(), bytes(sig), sig.size(), bytes(data), data.size()) == 1;
    ERR_clear_error();  // a failed verification leaves errors on this thread's queue
    return ok;
}

int no_passphrase(char*, int, int, void*) { return 0; }

/// The PEM's key and whether it is private; nullptr when the text holds neither.
EVP_PKEY* read_pem(std::string_view pem, bool& is_private) {
    bio_ptr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
    EVP_PKEY* key = bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr) : nullptr;
    is_private = key != nullptr;
    if (!key) {
        bio_ptr again(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
        if (again) key = PEM_read_bio_PUBKEY(again.get(), nullptr, no_passphrase, nullptr);
    }
    ERR_clear_error();
    return key;
}

}  // namespace

std::string hmac_sha256(std::string_view key, std::string_view data) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
    unsigned int len = 0;
    if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), bytes(data), data.size(), out.data(), &len))
        internal("HMAC-SHA256 failed");
    return std::string(reinterpret_cast<const char*>(out.data()), len);
}

bool equal_in_constant_time(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string random_bytes(std::size_t n) {
    std::string out(n, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1)
        internal("no randomness from OpenSSL");
    return out;
}

signing_key signing_key::hmac(std::string secret) {
    if (secret.size() < 32) throw core::error(core::error_kind::usage, "the HS256 secret must be at least 32 bytes");
    auto s = std::make_shared<state>();
    s->secret = std::move(secret);
    s->signature_bytes = 32;
    return signing_key(std::move(s));
}

signing_key signing_key::from_pem(std::string_view pem, const std::string& what) {
    auto s = std::make_shared<state>();
    s->pkey = read_pem(pem, s->has_private);
    if (!s->pkey) throw core::error(core::error_kind::usage, what + " holds no PEM key (expected an RSA or EC P-256 key, private or public, without a passphrase)");
    int id = EVP_PKEY_get_base_id(s->pkey);
    if (id == EVP_PKEY_RSA) {
        if (EVP_PKEY_get_bits(s->pkey) < 2048)
            throw core::error(core::error_kind::usage, what + ": an RSA key must have at least 2048 bits");
        s->alg = signature_alg::rsa_sha256;
        s->signature_bytes = static_cast<std::size_t>(EVP_PKEY_get_size(s->pkey));
        return signing_key(std::move(s));
    }
    if (id == EVP_PKEY_EC) {
        char group[64] = {};
        std::size_t len = 0;
        EVP_PKEY_get_group_name(s->pkey, group, sizeof group, &len);
        if (std::string_view(group) != "prime256v1" && std::string_view(group) != "P-256")
            throw core::error(core::error_kind::usage, what + ": an EC key must be on P-256 (ES256), not " + group);
        s->alg = signature_alg::ecdsa_p256_sha256;
        s->signature_bytes = 2 * es256_half;
        return signing_key(std::move(s));
    }
    throw core::error(core::error_kind::usage, what + ": only RSA (RS256) and EC P-256 (ES256) keys are supported");
}

signature_alg signing_key::alg() const noexcept { return state_->alg; }
bool signing_key::can_sign() const noexcept { return state_->alg == signature_alg::hmac_sha256 || state_->has_private; }
std::size_t signing_key::signature_bytes() const noexcept { return state_->signature_bytes; }

std::string signing_key::sign(std::string_view data) const {
    if (!can_sign()) throw core::error(core::error_kind::usage, "this key is only the public half: it cannot sign");
    switch (state_->alg) {
        case signature_alg::hmac_sha256: return hmac_sha256(state_->secret, data);
        case signature_alg::rsa_sha256: return pkey_sign(state_->pkey, data);
        case signature_alg::ecdsa_p256_sha256: break;
    }
    return der_to_raw(pkey_sign(state_->pkey, data));
}

bool signing_key::verify(std::string_view data, std::string_view signature) const {
    if (signature.size() != state_->signature_bytes) return false;
    switch (state_->alg) {
        case signature_alg::hmac_sha256: return equal_in_constant_time(hmac_sha256(state_->secret, data), signature);
        case signature_alg::rsa_sha256: return pkey_verify(state_->pkey, data, signature);
        case signature_alg::ecdsa_p256_sha256: break;
    }
    auto der = raw_to_der(signature);
    return !der.empty() && pkey_verify(state_->pkey, data, der);
}

}  // namespace orbitmesh::transport
