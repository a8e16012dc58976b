// JWTs over OpenSSL (through transport::signing_key), not Debian's libjwt 1.10: its jwt_decode
// takes the algorithm from the token's header, the confusion this file exists to rule out, and it
// has no claim checks.
#include "engine/auth/jwt.hpp"

#include "core/error.hpp"
#include "transport/signing_key.hpp"

namespace orbitmesh::engine::auth {

struct jwt_key::state {
    transport::signing_key key;
};

namespace {

constexpr std::string_view b64_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

[[noreturn]] void reject(const std::string& why) { throw core::error(core::error_kind::unauthorized, why); }

jwt_alg alg_of(const transport::signing_key& k) {
    switch (k.alg()) {
        case transport::signature_alg::hmac_sha256: return jwt_alg::hs256;
        case transport::signature_alg::rsa_sha256: return jwt_alg::rs256;
        case transport::signature_alg::ecdsa_p256_sha256: break;
    }
    return jwt_alg::es256;
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
    auto s = std::make_shared<const state>(state{transport::signing_key::hmac(std::move(secret))});
    return jwt_key(jwt_alg::hs256, std::move(s));
}

jwt_key jwt_key::from_pem(std::string_view pem, const std::string& what) {
    auto s = std::make_shared<const state>(state{transport::signing_key::from_pem(pem, what)});
    const jwt_alg alg = alg_of(s->key);
    return jwt_key(alg, std::move(s));
}

bool jwt_key::can_sign() const noexcept { return state_->key.can_sign(); }

std::string jwt_key::sign(const core::json& claims) const {
    if (!can_sign())
        throw core::error(core::error_kind::usage, "this hub holds only the public half of its --jwt-key: mint tokens "
                                                   "where the private key is (`orbitmesh token create --data-dir DIR --jwt-key PRIVATE.pem`)");
    core::json header{{"alg", jwt_alg_name(alg_)}, {"typ", "JWT"}};
    std::string input = base64url_encode(header.dump()) + "." + base64url_encode(claims.dump(-1, ' ', false, core::json::error_handler_t::replace));
    return input + "." + base64url_encode(state_->key.sign(input));
}

core::json jwt_key::verify(std::string_view token) const {
    if (token.size() > max_token_bytes)
        reject("token is " + std::to_string(token.size()) + " bytes, longer than the " + std::to_string(max_token_bytes) + "-byte limit");
    std::string_view h, p, s;
    if (!split_token(token, h, p, s)) reject("token is not a JWT (header.payload.signature)");
    check_header(h, alg_);
    std::string sig;
    if (!base64url_decode(s, sig) || sig.size() != state_->key.signature_bytes()) reject("token signature is malformed");
    std::string_view input = token.substr(0, h.size() + 1 + p.size());
    if (!state_->key.verify(input, sig)) reject("token signature does not verify (made with another key, or altered)");
    return decode_json_segment(p, "payload");
}

}  // namespace orbitmesh::engine::auth
