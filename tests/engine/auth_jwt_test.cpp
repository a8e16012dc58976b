#include <catch2/catch.hpp>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "core/error.hpp"
#include "core/token_claims.hpp"
#include "engine/auth/jwt.hpp"

using namespace orbitmesh;
using engine::auth::base64url_encode;
using engine::auth::jwt_key;

namespace {

const std::string secret(32, 's');

std::string rejection(const jwt_key& key, std::string_view token) {
    try {
        key.verify(token);
    } catch (const core::error& e) {
        CHECK(e.kind() == core::error_kind::unauthorized);
        return e.what();
    }
    return "accepted";
}

std::string pem_of(EVP_PKEY* key, bool pub) {
    BIO* bio = BIO_new(BIO_s_mem());
    if (pub) PEM_write_bio_PUBKEY(bio, key);
    else PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    std::string pem(data, static_cast<std::size_t>(len));
    BIO_free(bio);
    return pem;
}

/// A key pair made at test time, "rsa" (2048 bits) or "ec" (P-256), as PEM: {private, public}.
std::pair<std::string, std::string> make_pems(const char* type) {
    EVP_PKEY* key = std::string_view(type) == "rsa" ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
    REQUIRE(key != nullptr);
    std::pair<std::string, std::string> out{pem_of(key, false), pem_of(key, true)};
    EVP_PKEY_free(key);
    return out;
}

std::string hs256_token(std::string_view key, const core::json& header, const core::json& payload) {
    std::string input = base64url_encode(header.dump()) + "." + base64url_encode(payload.dump());
    unsigned char mac[32];
    unsigned int len = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(input.data()),
         input.size(), mac, &len);
    return input + "." + base64url_encode(std::string_view(reinterpret_cast<const char*>(mac), len));
}

const core::json payload{{"sub", "x"}, {"role", "admin"}};

}  // namespace

TEST_CASE("jwt: an HS256 token round-trips and any change to it is caught") {
    auto key = jwt_key::hs256(secret);
    auto token = key.sign(payload);
    CHECK(key.verify(token) == payload);
    // Tampered payload, same signature: change role to something else.
    auto first = token.find('.'), second = token.rfind('.');
    auto forged = token.substr(0, first + 1) + base64url_encode(core::json{{"sub", "x"}, {"role", "root"}}.dump()) + token.substr(second);
    CHECK(rejection(key, forged).find("does not verify") != std::string::npos);
    CHECK(rejection(jwt_key::hs256(std::string(32, 't')), token).find("does not verify") != std::string::npos);
    CHECK(rejection(key, "not-a-token").find("not a JWT") != std::string::npos);
    CHECK(rejection(key, token + ".x").find("not a JWT") != std::string::npos);
}

TEST_CASE("jwt: the algorithm is the key's, whatever the token's header says") {
    auto key = jwt_key::hs256(secret);
    std::string none = base64url_encode(R"({"alg":"none","typ":"JWT"})") + "." + base64url_encode(payload.dump()) + ".";
    CHECK(rejection(key, none).find("algorithm \"none\" is not this hub's (HS256)") != std::string::npos);
    auto rs = hs256_token(secret, {{"alg", "RS256"}}, payload);
    CHECK(rejection(key, rs).find("not this hub's") != std::string::npos);
    auto no_alg = hs256_token(secret, {{"typ", "JWT"}}, payload);
    CHECK(rejection(key, no_alg).find("(none given)") != std::string::npos);
    auto crit = hs256_token(secret, {{"alg", "HS256"}, {"crit", {"exp"}}}, payload);
    CHECK(rejection(key, crit).find("crit") != std::string::npos);
    CHECK(key.verify(hs256_token(secret, {{"alg", "HS256"}}, payload)) == payload);  // the control: same path, right alg
}

TEST_CASE("jwt: sizes are bounded before anything is decoded") {
    auto key = jwt_key::hs256(secret);
    std::string huge(engine::auth::max_token_bytes + 1, 'a');
    CHECK(rejection(key, huge).find("longer than the 8192-byte limit") != std::string::npos);
    core::json big_header{{"alg", "HS256"}, {"pad", std::string(600, 'p')}};
    CHECK(rejection(key, hs256_token(secret, big_header, payload)).find("header is longer") != std::string::npos);
    CHECK_THROWS_AS(jwt_key::hs256("short"), core::error);
}

TEST_CASE("jwt: RS256 signs with a private key, verifies with the public one, and refuses HS256 made with that public key") {
    auto [priv, pub] = make_pems("rsa");
    auto signer = jwt_key::from_pem(priv, "test key");
    CHECK(signer.alg() == engine::auth::jwt_alg::rs256);
    CHECK(signer.can_sign());
    auto token = signer.sign(payload);
    CHECK(signer.verify(token) == payload);
    auto verifier = jwt_key::from_pem(pub, "test key");
    CHECK_FALSE(verifier.can_sign());
    CHECK(verifier.verify(token) == payload);
    CHECK_THROWS_AS(verifier.sign(payload), core::error);
    // The classic confusion: HMAC keyed with the public key's PEM, header saying HS256.
    auto confused = hs256_token(pub, {{"alg", "HS256"}, {"typ", "JWT"}}, payload);
    CHECK(rejection(verifier, confused).find("\"HS256\" is not this hub's (RS256)") != std::string::npos);
    auto other = jwt_key::from_pem(make_pems("rsa").first, "other key");
    CHECK(rejection(other, token).find("does not verify") != std::string::npos);
}

TEST_CASE("jwt: ES256 round-trips with a P-256 key; other keys are refused with the reason") {
    auto key = jwt_key::from_pem(make_pems("ec").first, "ec key");
    CHECK(key.alg() == engine::auth::jwt_alg::es256);
    auto token = key.sign(payload);
    CHECK(key.verify(token) == payload);
    auto pub = jwt_key::from_pem(make_pems("ec").second, "ec pub");
    CHECK(rejection(pub, token).find("does not verify") != std::string::npos);
    CHECK_THROWS_WITH(jwt_key::from_pem("hello", "--jwt-key f"), Catch::Contains("holds no PEM key"));
}
