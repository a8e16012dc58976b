#pragma once
#include <string>
#include <unordered_set>

#include "store/event_store.hpp"

namespace orbitmesh::store::postgres {

class connection;

/// What a shared store's append transaction refuses besides the attempt fence (SPEC §10), read
/// inside it (it holds the append lock, so nothing interleaves):
///  - a new job or run whose idempotency key another job or run holds (within the key's window):
///    a key submitted on two hubs at once, or a schedule fire time both hubs reached, creates one;
///  - the events of a run whose lease another hub holds now (it took the run over from this one,
///    which was too slow to beat), with the step jobs the run's events would have started.
class batch_guard {
public:
    batch_guard(connection& db, std::string hub_id);
    /// Adds the streams of `b` it refuses to `refused`, each reported in b.refused when set.
    void check(const write_batch& b, std::unordered_set<std::string>& refused);

private:
    // `created`: the streams `b` begins (a job.submitted, a run.started).
    void check_keys(const write_batch& b, const std::unordered_set<std::string>& created,
                    std::unordered_set<std::string>& refused);
    void check_leases(const write_batch& b, const std::unordered_set<std::string>& created,
                      std::unordered_set<std::string>& refused);

    connection& db_;
    std::string hub_id_;
};

/// The stream of the job or run an idempotency row names ("job-ID", "run-ID").
std::string key_stream(const idempotency_row& k);

}  // namespace orbitmesh::store::postgres
