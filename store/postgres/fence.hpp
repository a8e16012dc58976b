#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/event.hpp"
#include "core/job_machine.hpp"
#include "store/event_hash.hpp"

namespace orbitmesh::store::postgres {

class connection;  // connection.hpp (libpq's headers, which the fence's unit test does without)

/// What the database knows of one job for fencing (the `job_fence` table): its current attempt
/// and where that attempt stands. Kept by the shared store's writers inside the append
/// transaction, so it is the truth every hub's appends are checked against (SPEC §10).
struct fence_row {
    enum class stage : char { pending = 'p', assigned = 'a', running = 'r', ended = 't' };
    int attempt = 0;
    stage at = stage::pending;
    bool claimed_elsewhere = false;  // another hub's claim on the pending job holds (claim_jobs)
};

/// The fields of a job event the fence decides on.
struct fence_facts {
    core::job_event_kind kind = core::job_event_kind::submitted;
    int attempt = -1;
    std::string final_state;  // job.finished: "succeeded", "cancelled", ...
    bool agent_outcome = false;  // job.finished carries an exit code or output (an agent's result)
    bool known = true;  // the job's stream has events in the database (or earlier in this transaction)
};

/// One step of the fence: the row after `f`, or nullopt with `why` set when the event must be
/// dropped: a second job.assigned for one attempt, a result (finished, retry_scheduled, dead,
/// requeued, started) for an attempt that is not the current one, anything after the end but a
/// `job retry`, an assignment of a job another hub claimed, anything of a job the database does not have (its submission was refused). A
/// job without a row but with events (appended before the shared store) is taken as it comes.
std::optional<fence_row> fence_step(const std::optional<fence_row>& row, const fence_facts& f, std::string& why);

/// The fence and the stream versions of one writer connection, used inside its append
/// transaction (which already holds the append lock, so nothing interleaves).
class fence {
public:
    fence(connection& db, std::string hub_id);
    /// Starts a transaction (or follows a rollback): forgets what the last one read and wrote.
    void begin() {
        versions_.clear();
        heads_.clear();
        rows_.clear();
        dirty_.clear();
    }
    /// Reads, in two queries, the fence rows and stream versions of every stream of `events` not
    /// read yet in this transaction (instead of a round trip per event).
    void prefetch(const std::vector<core::event>& events);
    /// Checks a job event against `job_fence` and records its step (written by flush()); false
    /// (and `why`) when refused. Events of other streams always pass.
    bool admit(const core::event& e, std::string& why);
    /// Writes the steps admit() recorded, in one statement.
    void flush();
    /// The version `e` gets in its stream: one past the database's last (the hub's own count may
    /// lag events other hubs appended).
    std::int64_t next_version(const std::string& stream);
    /// The last version this transaction gave `stream`, or 0.
    std::int64_t last_version(const std::string& stream) const;
    /// The hash of event `version` of `stream` when prefetch() read it as the stream's last, or nullptr.
    const chain_hash* stored_hash(const std::string& stream, std::int64_t version) const;

private:
    connection& db_;
    std::string hub_id_;
    std::unordered_map<std::string, std::int64_t> versions_;
    struct stored_head {
        std::int64_t version = 0;
        chain_hash hash{};
    };
    std::unordered_map<std::string, stored_head> heads_;  // stream -> its last event in the database
    std::unordered_map<std::string, std::optional<fence_row>> rows_;  // job id -> its row in this transaction
    std::vector<std::string> dirty_;  // job ids whose row changed since the last flush
};

}  // namespace orbitmesh::store::postgres
