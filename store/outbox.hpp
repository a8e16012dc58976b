#pragma once
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/json.hpp"

namespace orbitmesh::store {

/// The agent's durable outbox (`AGENT_DATA_DIR/outbox.db`): results written before they are sent,
/// deleted only on `result_ack`, resent after a reconnect. Also remembers which (job, attempt)
/// pairs the agent already finished so a re-sent assign is answered from here, not run again.
/// Every call is synchronous and durable (fsync) when it returns. Not thread-safe.
class outbox {
public:
    struct entry {
        std::string job_id;
        int attempt = 0;
        core::json result;  // the full `result` message body as sent
        /// `output`/`progress` messages of the attempt the hub may not have had yet, resent (in
        /// order, before the result) after a reconnect or a restart.
        std::vector<core::json> outputs = {};
    };

    /// Throws core::error{storage} when the file cannot be opened or is damaged.
    static std::unique_ptr<outbox> open(const std::filesystem::path& file);
    virtual ~outbox() = default;

    virtual void put(const entry& e) = 0;                                         // insert or replace
    virtual std::optional<entry> get(const std::string& job_id, int attempt) = 0;  // not found = nullopt
    virtual void remove(const std::string& job_id, int attempt) = 0;             // on result_ack
    virtual std::vector<entry> pending() = 0;                                     // everything not yet acked
    /// Stores several results at once (insert or replace each). The SQLite outbox keeps them in
    /// one row, so a batch costs one insert, and one delete once all of them are removed; until
    /// then a removed one is forgotten in memory only, and a crash brings it back (it is resent
    /// once and acknowledged again as a duplicate).
    virtual void put_all(std::span<const entry* const> entries) {
        for (const auto* e : entries) put(*e);
    }
    /// Groups the following put/remove calls into one transaction (one fsync at commit_group):
    /// inside a group they are not durable until commit_group returns. Throws core::error{storage}.
    virtual void begin_group() = 0;
    virtual void commit_group() = 0;
    /// Undoes an open group after a failure. Never throws.
    virtual void rollback_group() noexcept = 0;
};

}  // namespace orbitmesh::store
