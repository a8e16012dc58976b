#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/event.hpp"
#include "store/event_scan.hpp"

namespace orbitmesh::engine::replay {

/// An event (or a log_chain checkpoint) whose stored hash is not the one its contents give.
struct chain_mismatch {
    std::int64_t seq = 0;
    std::string object;    // "event 42 (job-0193… v3)" or "log_chain checkpoint at seq 42 (events 40..42)"
    std::string expected;  // hex, as recomputed
    std::string stored;    // hex as stored, or "none"
};

/// What the chain check found.
struct chain_result {
    bool present = false;        // the store has a chain (schema 3 or later)
    std::int64_t start_seq = 0;  // the first seq the chain covers (earlier events predate it)
    std::int64_t hashed = 0;     // events checked against their hash
    std::size_t checkpoints = 0;
    std::optional<store::chain_checkpoint> head;  // the newest checkpoint within the log read
    std::vector<chain_mismatch> mismatches;       // the first ones by seq
    std::size_t mismatch_count = 0;
};

/// Checks the tamper-evident log (docs/security.md) while a fold reads it: each seq range's
/// thread feeds its own cursor in seq order; finish() joins the ranges in order (a stream or
/// a checkpoint that crosses a range border is completed there). Per event: one SHA-256 and
/// one hash-map lookup by stream name; nothing allocated except per stream.
class chain_check {
public:
    chain_check();
    ~chain_check();
    chain_check(const chain_check&) = delete;
    chain_check& operator=(const chain_check&) = delete;

    /// Before the fold: the store's chain (read after the log's bounds) and the seq ranges
    /// (after, last] the fold reads, in order.
    void prepare(store::log_chain chain, const std::vector<std::pair<std::int64_t, std::int64_t>>& ranges);
    /// The next event of range `i` with its stored hash and stored data (event_scan's
    /// current_hash / current_stored_data); called by that range's thread only.
    void add(std::size_t i, const core::event_view& e, std::span<const std::uint8_t> hash,
             std::span<const std::uint8_t> stored_data);
    /// Before the fold of an event of range `i`: starts loading its stream's head, so that cache
    /// miss overlaps the fold's own (each is a random place in a table of 100,000s of streams).
    void prefetch(std::size_t i, std::string_view stream) const noexcept;
    /// After prefetch(): reads the index entry and starts loading the head itself.
    void prefetch_head(std::size_t i, std::string_view stream) const noexcept;
    /// After every range is read. Events whose previous one is in an earlier range are checked
    /// on `threads` threads (each its own hasher); `scan` looks up what no range has seen.
    chain_result finish(store::event_scan& scan, std::size_t max_mismatches, int threads = 1);

private:
    struct cursor;
    /// The stored hash of `stream`'s event before `version`, for an event of range `range`, from
    /// the earlier ranges' heads; nullopt when they do not have it.
    std::optional<store::chain_hash> previous_hash(std::size_t range, std::string_view stream, std::int64_t version) const;
    void check_borders(store::event_scan& scan, int threads, std::vector<chain_mismatch>& out) const;
    store::log_chain chain_;
    std::vector<std::unique_ptr<cursor>> cursors_;
};

}  // namespace orbitmesh::engine::replay
