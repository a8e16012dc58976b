#pragma once
#include <exception>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include "store/chain_log.hpp"
#include "store/event_hash.hpp"
#include "store/event_store.hpp"

namespace orbitmesh::store {

/// Writes groups of batches through the write connection with statements prepared once.
/// Owned and used by the store's writer thread only.
class batch_writer {
public:
    /// Prepares every statement on `db`, which must outlive the writer.
    batch_writer(SQLite::Database& db, std::filesystem::path file);

    /// Writes `group` in one IMMEDIATE transaction. Afterwards errors[i] is nullptr when batch i
    /// committed, else why it did not. A batch that fails (e.g. a stream version conflict) is rolled
    /// back alone to its savepoint and the rest commit; a failed BEGIN or COMMIT fails them all.
    void write_group(std::span<const write_batch* const> group, std::vector<std::exception_ptr>& errors);

private:
    void write(const write_batch& b, bool earlier_failed = false);
    std::exception_ptr write_isolated(const write_batch& b, bool earlier_failed);
    void insert_event(const core::event& e);
    void upsert_job(const job_row& j);
    void upsert_agent(const core::agent_record& a);
    void insert_log(const log_line& l);
    void upsert_run(const run_row& r);
    void upsert_key(const idempotency_row& k);
    void write_snapshot(const snapshot_blob& s);
    void rollback_quietly() noexcept;
    void begin_chain();
    void write_checkpoint();
    chain_hash previous_hash(const core::event& e);

    SQLite::Database& db_;
    std::filesystem::path file_;
    SQLite::Statement begin_, commit_, rollback_;
    SQLite::Statement savepoint_, release_, rollback_to_;
    SQLite::Statement insert_event_, upsert_job_, upsert_agent_, insert_log_;
    SQLite::Statement upsert_run_, upsert_key_, insert_snapshot_, prune_snapshots_, last_seq_;
    SQLite::Statement prev_hash_, last_checkpoint_, insert_checkpoint_;
    std::vector<std::uint8_t> packed_;  // reused MessagePack buffer for event data

    // The tamper-evident log (store/event_hash.hpp). The writer gives events their seq itself
    // (the next after the log's last, read at BEGIN) so it can hash them before the INSERT.
    chain_log chain_;
    std::int64_t next_seq_ = 1;
};

}  // namespace orbitmesh::store
