#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "store/event_hash.hpp"

namespace orbitmesh::store {

/// A writer's side of the tamper-evident log (docs/security.md), the same for the SQLite and the
/// PostgreSQL writer: the hash of each event it appends, the last hash it gave each recently
/// written stream (bounded; forgotten whenever anything rolls back), and the commit's checkpoint
/// over the hashes of its events. The writers only read and write the rows. Not thread-safe.
class chain_log {
public:
    /// A transaction begins; its first event gets `first_seq`.
    void begin(std::int64_t first_seq) {
        first_seq_ = first_seq;
        hashes_.clear();
    }
    /// The hash this writer gave event `version` of `stream`, if it still knows it.
    const chain_hash* cached(std::string_view stream, std::int64_t version) const;
    /// The hash of an event chained over `prev` (the hash of its stream's previous event).
    chain_hash hash(const chain_hash& prev, std::int64_t seq, std::string_view stream, std::int64_t version,
                    std::string_view type, std::int64_t time_ms, std::span<const std::uint8_t> data) {
        return hasher_.event(prev, seq, stream, version, type, time_ms, data);
    }
    /// The event was written with `hash`: part of the checkpoint, and its stream's head.
    void written(const std::string& stream, std::int64_t version, const chain_hash& hash);
    /// How many events this transaction hashed (a savepoint's mark).
    std::size_t mark() const noexcept { return hashes_.size(); }
    /// A batch rolled back to its savepoint at `mark`.
    void rolled_back_to(std::size_t mark);
    /// The whole transaction rolled back.
    void rolled_back() { heads_.clear(); }
    /// Whether the transaction wrote events (a checkpoint is due).
    bool any() const noexcept { return !hashes_.empty(); }
    std::int64_t first_seq() const noexcept { return first_seq_; }
    /// The checkpoint over the transaction's events first_seq()..last_seq, chained on `prev`.
    chain_hash checkpoint(const chain_hash& prev, std::int64_t last_seq);

private:
    chain_hasher hasher_;
    std::int64_t first_seq_ = 0;
    std::vector<chain_hash> hashes_;  // this transaction's events', in seq order
    stream_heads heads_;
};

/// A stored hash cell (32 bytes) as a chain_hash; zero_hash for NULL or a cell of another size
/// (events written before the chain existed have none).
chain_hash hash_of_cell(const void* data, std::size_t size);

}  // namespace orbitmesh::store
