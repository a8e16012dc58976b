#pragma once
#include <cstdint>
#include <exception>
#include <memory>
#include <span>
#include <string>
#include <unordered_set>
#include <vector>

#include "store/chain_log.hpp"
#include "store/event_store.hpp"
#include "store/postgres/connection.hpp"
#include "store/postgres/batch_guard.hpp"
#include "store/postgres/fence.hpp"

namespace orbitmesh::store::postgres {

/// An `events` row as the writer inserts it: every column computed before the insert, so a new
/// column (a hash chained per stream, say) is one more field here and one more parameter below.
struct event_row {
    std::int64_t seq = 0;
    const core::event* source = nullptr;  // stream, version, type, time
    const void* data = nullptr;           // MessagePack of the event's JSON
    std::size_t size = 0;
    std::int64_t version = 0;             // the source's, or renumbered from the database (shared)
};

/// Writes groups of batches through its own connection with statements prepared once. Owned
/// and used by the store's writer thread only.
class writer {
public:
    /// `hub_id` not empty: the shared store (event_store::options::hub_id): events carry it as
    /// their origin, job events pass the fence, versions come from the database, commits NOTIFY.
    explicit writer(connection& db, std::string hub_id = {});

    /// Writes `group` in one transaction that first takes the append advisory lock, so the
    /// global seq of concurrently committing hubs follows commit order: a reader tailing
    /// `seq > last` never skips an event that commits later with a smaller seq. Afterwards
    /// errors[i] is nullptr when batch i committed; a failing batch (a (stream, version)
    /// conflict) is rolled back alone to its savepoint and the rest commit.
    void write_group(std::span<const write_batch* const> group, std::vector<std::exception_ptr>& errors);

private:
    void write(const write_batch& b, bool earlier_failed);
    std::exception_ptr write_isolated(const write_batch& b, bool earlier_failed);
    event_row row_of(const core::event& e);
    void insert_event(const event_row& r);
    void upsert_job(const job_row& j);
    void upsert_agent(const core::agent_record& a);
    void insert_log(const log_line& l);
    void upsert_run(const run_row& r);
    void upsert_key(const idempotency_row& k);
    void write_snapshot(const snapshot_blob& s);
    void rollback_quietly() noexcept;
    void write_checkpoint();
    chain_hash previous_hash(const std::string& stream, std::int64_t version);
    void write_shared(const write_batch& b);
    void notify_logs(std::span<const write_batch* const> group, const std::vector<std::exception_ptr>& errors);

    connection& db_;
    std::string hub_id_;
    std::unique_ptr<fence> fence_;  // shared store only
    std::unique_ptr<batch_guard> guard_;  // shared store only
    std::unordered_set<std::string> refused_;  // the streams of the batch being written that were refused
    std::int64_t next_seq_ = 0;  // inside a transaction: the seq the next event gets
    std::vector<std::uint8_t> packed_;
    chain_log chain_;  // the tamper-evident log, as the SQLite writer keeps it
};

}  // namespace orbitmesh::store::postgres
