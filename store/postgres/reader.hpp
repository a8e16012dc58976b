#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/event_store.hpp"
#include "store/postgres/connection.hpp"

namespace orbitmesh::store::postgres {

/// Reads row `row` of a result whose first columns are `seq, stream, version, type, data, time`
/// into `e` (data decoded and upcast; unreadable data becomes a discarded JSON value, which the
/// caller reports and skips). Shared by the reader and the shared store's follower.
void read_event_row(const result& r, int row, core::event& e);

/// The read side of the PostgreSQL store over its own connection (see event_store for each
/// function's contract). Not thread-safe: one caller at a time.
class reader {
public:
    explicit reader(const std::string& url);

    void for_each_event(const std::function<void(const core::event&)>& fn, std::int64_t after_seq,
                        const std::string& stream);
    void for_each_event_in(std::string_view prefix, const std::function<void(const core::event&)>& fn);
    std::vector<core::job_record> load_jobs();
    std::vector<core::agent_record> load_agents();
    std::vector<log_line> load_logs(const std::string& job_id, std::int64_t after_seq, std::size_t limit);
    std::int64_t last_seq();
    std::vector<std::string> streams_begun_elsewhere(std::string_view prefix, const std::string& hub_id);
    std::vector<std::string> claim_runs_of(const std::string& dead_hub, const std::string& hub_id);
    std::vector<std::string> claim_jobs(const std::vector<std::string>& job_ids, const std::string& hub_id, std::int64_t for_ms);
    std::vector<std::pair<std::string, std::int64_t>> load_job_versions();
    std::optional<core::job_record> load_job(const std::string& id);
    std::vector<core::job_record> load_jobs_page(std::size_t limit, const std::string& state, const std::string& before);
    std::optional<core::json> load_run(const std::string& id);
    std::vector<core::json> load_runs_page(std::size_t limit, const std::string& state, const std::string& before);
    std::map<std::string, std::int64_t> count_runs();
    std::map<std::pair<std::string, std::string>, std::int64_t> count_runs_by_workflow();
    std::optional<snapshot_blob> load_snapshot();

private:
    void scan(const std::string& sql, params& p, std::int64_t after_seq,
              const std::function<void(const core::event&)>& fn);
    result page(const char* table, std::size_t limit, const std::string& state, const std::string& before);

    connection db_;
};

}  // namespace orbitmesh::store::postgres
