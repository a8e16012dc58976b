#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <optional>
#include <span>
#include <vector>

#include "core/event.hpp"
#include "store/event_hash.hpp"

namespace orbitmesh::store {

/// What the log holds, without reading it.
struct log_bounds {
    std::int64_t first_seq = 0;  // 0 for an empty log
    std::int64_t last_seq = 0;
};

/// One `log_chain` checkpoint: the chain over the hashes of events first_seq..last_seq.
struct chain_checkpoint {
    std::int64_t first_seq = 0;
    std::int64_t last_seq = 0;
    chain_hash hash{};
    bool malformed = false;  // the stored hash is not 32 bytes
};

/// The tamper-evident chain of a store: where it starts and its checkpoints in seq order.
/// start_seq 0: the store has no chain (schema before 3).
struct log_chain {
    std::int64_t start_seq = 0;
    std::vector<chain_checkpoint> checkpoints;
};

/// The event log read in place for replay (`orbitmesh replay`, verification, recovery): its own
/// read-only connection with the file memory-mapped, every event handed to the callback as a
/// core::event_view into SQLite's buffers (valid during the call only), nothing allocated per
/// event. Events of a type that has upcasters are brought to the current schema first (through
/// a scratch buffer). Works while a hub writes the same file (WAL). One scan at a time per
/// object; open one per thread to read ranges in parallel.
class event_scan {
public:
    using visitor = std::function<void(const core::event_view&)>;

    /// Throws core::error{storage} when the file is missing, not a store, or of a newer schema.
    explicit event_scan(const std::filesystem::path& file);
    ~event_scan();
    event_scan(const event_scan&) = delete;
    event_scan& operator=(const event_scan&) = delete;

    log_bounds bounds();
    /// Events with after < seq <= last, in seq order. Exceptions from `fn` pass through.
    void range(std::int64_t after, std::int64_t last, const visitor& fn);
    /// One stream's events in version order, up to seq `last` (an index lookup, not a scan).
    void stream(std::string_view name, std::int64_t last, const visitor& fn);
    /// Every stream whose name starts with `prefix`, stream by stream in version order.
    void streams_with_prefix(std::string_view prefix, const visitor& fn);
    /// During a visitor call: the visited event's stored hash (empty: none) and its data exactly
    /// as stored, before any upcast (what the hash covers). Views into SQLite's row.
    std::span<const std::uint8_t> current_hash() const;
    std::span<const std::uint8_t> current_stored_data() const;
    /// The chain's start and every checkpoint (read them after bounds(): they cover the log read).
    log_chain chain();
    /// The stored hash of one event (zeros when it has none); nullopt when there is no such event.
    std::optional<chain_hash> stored_hash(std::string_view stream, std::int64_t version);
    /// The highest seq of an event stamped at or before wall-clock `time_ms` (`--until TIME`);
    /// 0 when none is.
    std::int64_t last_seq_before_time(std::int64_t time_ms);

    const std::filesystem::path& file() const { return file_; }

private:
    struct impl;
    std::filesystem::path file_;
    std::unique_ptr<impl> impl_;
};

}  // namespace orbitmesh::store
