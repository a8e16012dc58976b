#include "store/event_hash.hpp"

#include <cstring>
#include <vector>

#include <openssl/evp.h>

#include "core/error.hpp"

namespace orbitmesh::store {

struct chain_hasher::evp {
    EVP_MD_CTX* ctx = nullptr;
    // Fetched once: initialising with EVP_sha256() makes OpenSSL 3 look the provider's
    // implementation up again on every init, once per event on verify's hot path.
    EVP_MD* md = nullptr;
    std::vector<std::uint8_t> input;  // event(): the bytes hashed, reused
};

namespace {

void check(int ok, const char* what) {
    if (ok != 1) throw core::error{core::error_kind::internal, std::string("SHA-256 of the event chain: ") + what + " failed"};
}

}  // namespace

chain_hasher::chain_hasher() : ctx_(new evp) {
    ctx_->ctx = EVP_MD_CTX_new();
    ctx_->md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (ctx_->ctx == nullptr || ctx_->md == nullptr) {
        EVP_MD_free(ctx_->md);
        EVP_MD_CTX_free(ctx_->ctx);
        delete ctx_;
        throw core::error{core::error_kind::internal, "SHA-256 of the event chain: no memory for a digest context"};
    }
}

chain_hasher::~chain_hasher() {
    EVP_MD_free(ctx_->md);
    EVP_MD_CTX_free(ctx_->ctx);
    delete ctx_;
}

void chain_hasher::put(std::int64_t v) {
    std::uint8_t b[8];
    auto u = static_cast<std::uint64_t>(v);
    for (auto& x : b) {
        x = static_cast<std::uint8_t>(u & 0xff);
        u >>= 8;
    }
    check(EVP_DigestUpdate(ctx_->ctx, b, sizeof b), "update");
}

void chain_hasher::put(std::span<const std::uint8_t> bytes) {
    if (!bytes.empty()) check(EVP_DigestUpdate(ctx_->ctx, bytes.data(), bytes.size()), "update");
}

chain_hash chain_hasher::event(const chain_hash& prev, std::int64_t seq, std::string_view stream, std::int64_t version,
                               std::string_view type, std::int64_t time_ms, std::span<const std::uint8_t> data) {
    // The input laid out in one reused buffer and hashed in one update: ten small updates per
    // event were a third of the hashing time. Re-initialising a context with the same fetched
    // digest reuses its buffers: nothing is allocated here once the buffer has grown. Written
    // with memcpy into a buffer sized once: pushing byte by byte cost as much as the SHA-256.
    auto& b = ctx_->input;
    const std::size_t size = prev.size() + 8 * 6 + stream.size() + type.size() + data.size();
    if (b.size() < size) b.resize(size);
    std::uint8_t* at = b.data();
    auto put_int = [&at](std::int64_t v) {
        auto u = static_cast<std::uint64_t>(v);
        for (int i = 0; i < 8; ++i, u >>= 8) at[i] = static_cast<std::uint8_t>(u & 0xff);  // little-endian on any host
        at += 8;
    };
    auto put_bytes = [&at](const void* p, std::size_t n) {
        if (n != 0) std::memcpy(at, p, n);
        at += n;
    };
    put_bytes(prev.data(), prev.size());
    put_int(seq);
    put_int(version);
    put_int(time_ms);
    put_int(static_cast<std::int64_t>(stream.size()));
    put_bytes(stream.data(), stream.size());
    put_int(static_cast<std::int64_t>(type.size()));
    put_bytes(type.data(), type.size());
    put_int(static_cast<std::int64_t>(data.size()));
    put_bytes(data.data(), data.size());
    check(EVP_DigestInit_ex2(ctx_->ctx, ctx_->md, nullptr), "init");
    put(std::span<const std::uint8_t>(b.data(), size));
    return finish();
}

void chain_hasher::begin_checkpoint(const chain_hash& prev, std::int64_t first_seq, std::int64_t last_seq) {
    check(EVP_DigestInit_ex2(ctx_->ctx, ctx_->md, nullptr), "init");
    put(prev);
    put(first_seq);
    put(last_seq);
}

void chain_hasher::add(std::span<const std::uint8_t> event_hash) {
    // A missing hash counts as zeros: the checkpoint over it then differs from the stored one.
    if (event_hash.size() == 32) put(event_hash);
    else put(zero_hash);
}

chain_hash chain_hasher::finish() {
    chain_hash out{};
    unsigned int n = 0;
    check(EVP_DigestFinal_ex(ctx_->ctx, out.data(), &n), "final");
    return out;
}

std::string to_hex(std::span<const std::uint8_t> hash) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(hash.size() * 2);
    for (auto b : hash) {
        out += digits[b >> 4];
        out += digits[b & 0xf];
    }
    return out;
}

}  // namespace orbitmesh::store
