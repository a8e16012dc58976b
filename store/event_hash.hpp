#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

namespace orbitmesh::store {

/// A SHA-256 digest of the tamper-evident log (docs/security.md, "Tamper-evident log").
using chain_hash = std::array<std::uint8_t, 32>;

/// The hash of an event before the first of its stream (and of a stream's events written before
/// the chain existed): all zero bytes.
inline constexpr chain_hash zero_hash{};

/// Computes the hashes of the tamper-evident log with one reused OpenSSL EVP context: nothing is
/// allocated per call. Backend-neutral and pure (the same inputs give the same hash on any
/// store); one object per thread, not thread-safe.
class chain_hasher {
public:
    chain_hasher();
    ~chain_hasher();
    chain_hasher(const chain_hasher&) = delete;
    chain_hasher& operator=(const chain_hasher&) = delete;

    /// The hash of an event chained over `prev` (the hash of the previous event of its stream):
    /// SHA-256(prev ‖ seq ‖ version ‖ time ‖ len ‖ stream ‖ len ‖ type ‖ len ‖ data), integers
    /// as 8 bytes little-endian, so no two different events share an input.
    chain_hash event(const chain_hash& prev, std::int64_t seq, std::string_view stream, std::int64_t version,
                     std::string_view type, std::int64_t time_ms, std::span<const std::uint8_t> data);

    /// A `log_chain` checkpoint over the events first_seq..last_seq: begin, add every event's
    /// hash in seq order, finish. SHA-256(prev ‖ first_seq ‖ last_seq ‖ hash ‖ hash ‖ ...).
    void begin_checkpoint(const chain_hash& prev, std::int64_t first_seq, std::int64_t last_seq);
    void add(std::span<const std::uint8_t> event_hash);
    chain_hash finish();

private:
    void put(std::int64_t v);
    void put(std::span<const std::uint8_t> bytes);
    struct evp;
    evp* ctx_;
};

/// The last hash (and its version) of each stream seen, looked up by name without a copy: the
/// writer's cache and verify's per-range state.
struct stream_head {
    std::int64_t version = 0;
    chain_hash hash{};
};
struct stream_name_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
using stream_heads = std::unordered_map<std::string, stream_head, stream_name_hash, std::equal_to<>>;

/// Lower-case hex of a hash ("" for an empty one).
std::string to_hex(std::span<const std::uint8_t> hash);

}  // namespace orbitmesh::store
