// JWTs over OpenSSL directly (not Debian's libjwt 1.10: its jwt_decode takes the algorithm from the
// token's header, the confusion this file exists to rule out, and it has no claim checks).
#include "engine/auth/jwt.hpp"

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <array>

#include "core/error.hpp"

namespace orbitmesh::engine::auth {

struct jwt_key::state {
    std::string secret;       // HS256
    EVP_PKEY* pkey = nullptr;  // RS256 / ES256
    bool has_private = false;
    std::size_t signature_bytes = 0;
    state() = default;
    state(const state&) = delete;
    state& operator=(const state&) = delete;
    ~state() { EVP_PKEY_free(pkey); }
};

namespace {

constexpr std::string_view b64_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::size_t es256_half = 32;

[[noreturn]] void reject(const std::string& why) { throw core::error(core::error_kind::unauthorized, why); }

using md_ctx = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;
using ecdsa_sig = std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)>;
using bio_ptr = std::unique_ptr<BIO, decltype(&BIO_free)>;

const unsigned char* bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

std::string hmac_sha256(std::string_view key, std::string_view data) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
    unsigned int len = 0;
    if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), bytes(data), data.size(), out.data(), &len))
        throw core::error(core::error_kind::internal, "HMAC-SHA256 failed");
    return std::string(reinterpret_cast<const char*>(out.data()), len);
}

/// DER ECDSA signature -> JWS's fixed-width r||s.
std::string der_to_raw(const std::string& der) {
    const unsigned char* p = bytes(der);
    ecdsa_sig sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())), ECDSA_SIG_free);
    if (!sig) throw core::error(core::error_kind::internal, "ES256 signature could not be converted");
    std::string raw(2 * es256_half, '\0');
    auto* out = reinterpret_cast<unsigned char*>(raw.data());
    if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), out, es256_half) < 0 ||
        BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), out + es256_half, es256_half) < 0)
        throw core::error(core::error_kind::internal, "ES256 signature could not be converted");
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
        throw core::error(core::error_kind::internal, "signing a token failed");
    std::string sig(len, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, bytes(data), data.size()) != 1)
        throw core::error(core::error_kind::internal, "signing a token failed");
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

/// Splits `h.p.s`; false unless there are exactly three segments.
bool split_token(std::string_view t, std::string_view& h, std::string_view& p, std::string_view& s) {
    auto a = t.find('.');
    if (a == std::string_view::npos) return false;
    auto b = t.find('.', a + 1);
    if (b == std::string_view::npos || t.find('.', b + 1) != std::string_view::npos) return false;
    h = t.substr(0, a);
    p = t.substr(a + 1, b - a - 1);
    s = t.substr(b + 1);
    return !h.empty() && !p.empty();
}

core::json decode_json_segment(std::string_view segment, const char* what) {
    std::string text;
    if (!base64url_decode(segment, text)) reject(std::string("token ") + what + " is not base64url");
    auto j = core::json::parse(text, nullptr, false);
    if (!j.is_object()) reject(std::string("token ") + what + " is not a JSON object");
    return j;
}

void check_header(std::string_view segment, jwt_alg pinned) {
    if (segment.size() > (max_jwt_header_bytes * 4 + 2) / 3)
        reject("token header is longer than the " + std::to_string(max_jwt_header_bytes) + "-byte limit");
    auto header = decode_json_segment(segment, "header");
    auto alg = header.find("alg");
    std::string named = alg != header.end() && alg->is_string() ? alg->get<std::string>() : std::string("(none given)");
    if (named != jwt_alg_name(pinned))
        reject("token algorithm \"" + named.substr(0, 32) + "\" is not this hub's (" + std::string(jwt_alg_name(pinned)) + ")");
    if (header.contains("crit")) reject("token header has \"crit\" extensions this hub does not understand");
}

}  // namespace

std::string_view jwt_alg_name(jwt_alg a) noexcept {
    switch (a) {
    case jwt_alg::hs256: return "HS256";
    case jwt_alg::rs256: return "RS256";
    case jwt_alg::es256: return "ES256";
    }
    return "?";
}

std::string base64url_encode(std::string_view in) {
    std::string out;
    out.reserve((in.size() * 4 + 2) / 3);
    std::uint32_t acc = 0;
    int bits = 0;
    for (unsigned char c : in) {
        acc = (acc << 8) | c;
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out += b64_alphabet[(acc >> bits) & 63];
        }
    }
    if (bits > 0) out += b64_alphabet[(acc << (6 - bits)) & 63];
    return out;
}

bool base64url_decode(std::string_view in, std::string& out) {
    out.clear();
    if (in.size() % 4 == 1) return false;
    out.reserve(in.size() * 3 / 4);
    std::uint32_t acc = 0;
    int bits = 0;
    for (char ch : in) {
        auto v = b64_alphabet.find(ch);
        if (v == std::string_view::npos) return false;
        acc = (acc << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((acc >> bits) & 0xff);
        }
    }
    return true;
}

jwt_key jwt_key::hs256(std::string secret) {
    if (secret.size() < 32) throw core::error(core::error_kind::usage, "the HS256 secret must be at least 32 bytes");
    auto s = std::make_shared<state>();
    s->secret = std::move(secret);
    s->signature_bytes = 32;
    return jwt_key(jwt_alg::hs256, std::move(s));
}

jwt_key jwt_key::from_pem(std::string_view pem, const std::string& what) {
    auto s = std::make_shared<state>();
    s->pkey = read_pem(pem, s->has_private);
    if (!s->pkey) throw core::error(core::error_kind::usage, what + " holds no PEM key (expected an RSA or EC P-256 key, private or public, without a passphrase)");
    int id = EVP_PKEY_get_base_id(s->pkey);
    if (id == EVP_PKEY_RSA) {
        if (EVP_PKEY_get_bits(s->pkey) < 2048)
            throw core::error(core::error_kind::usage, what + ": an RSA key must have at least 2048 bits");
        s->signature_bytes = static_cast<std::size_t>(EVP_PKEY_get_size(s->pkey));
        return jwt_key(jwt_alg::rs256, std::move(s));
    }
    if (id == EVP_PKEY_EC) {
        char group[64] = {};
        std::size_t len = 0;
        EVP_PKEY_get_group_name(s->pkey, group, sizeof group, &len);
        if (std::string_view(group) != "prime256v1" && std::string_view(group) != "P-256")
            throw core::error(core::error_kind::usage, what + ": an EC key must be on P-256 (ES256), not " + group);
        s->signature_bytes = 2 * es256_half;
        return jwt_key(jwt_alg::es256, std::move(s));
    }
    throw core::error(core::error_kind::usage, what + ": only RSA (RS256) and EC P-256 (ES256) keys are supported");
}

bool jwt_key::can_sign() const noexcept { return alg_ == jwt_alg::hs256 || state_->has_private; }

std::string jwt_key::sign(const core::json& claims) const {
    if (!can_sign())
        throw core::error(core::error_kind::usage, "this hub holds only the public half of its --jwt-key: mint tokens "
                                                   "where the private key is (`orbitmesh token create --data-dir DIR --jwt-key PRIVATE.pem`)");
    core::json header{{"alg", jwt_alg_name(alg_)}, {"typ", "JWT"}};
    std::string input = base64url_encode(header.dump()) + "." + base64url_encode(claims.dump(-1, ' ', false, core::json::error_handler_t::replace));
    std::string sig;
    if (alg_ == jwt_alg::hs256) sig = hmac_sha256(state_->secret, input);
    else if (alg_ == jwt_alg::rs256) sig = pkey_sign(state_->pkey, input);
    else sig = der_to_raw(pkey_sign(state_->pkey, input));
    return input + "." + base64url_encode(sig);
}

core::json jwt_key::verify(std::string_view token) const {
    if (token.size() > max_token_bytes)
        reject("token is " + std::to_string(token.size()) + " bytes, longer than the " + std::to_string(max_token_bytes) + "-byte limit");
    std::string_view h, p, s;
    if (!split_token(token, h, p, s)) reject("token is not a JWT (header.payload.signature)");
    check_header(h, alg_);
    std::string sig;
    if (!base64url_decode(s, sig) || sig.size() != state_->signature_bytes) reject("token signature is malformed");
    std::string_view input = token.substr(0, h.size() + 1 + p.size());
    bool ok = false;
    if (alg_ == jwt_alg::hs256) {
        auto want = hmac_sha256(state_->secret, input);
        ok = CRYPTO_memcmp(want.data(), sig.data(), want.size()) == 0;
    } else if (alg_ == jwt_alg::rs256) {
        ok = pkey_verify(state_->pkey, input, sig);
    } else {
        auto der = raw_to_der(sig);
        ok = !der.empty() && pkey_verify(state_->pkey, input, der);
    }
    if (!ok) reject("token signature does not verify (made with another key, or altered)");
    return decode_json_segment(p, "payload");
}

}  // namespace orbitmesh::engine::auth
