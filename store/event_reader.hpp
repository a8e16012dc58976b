#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include "store/event_store.hpp"
#include "store/sqlite/statement.hpp"

namespace orbitmesh::store {

/// The store's read side: its own read-only connection, so in WAL mode reads see the last
/// committed state and never block the writer. Not thread-safe: one caller at a time.
class event_reader {
public:
    /// Opens a read-only connection to an existing, migrated store file.
    explicit event_reader(std::filesystem::path file);

    /// Streams events with seq > after_seq in seq order, one row at a time (see event_store).
    void for_each_event(const std::function<void(const core::event&)>& fn, std::int64_t after_seq,
                        const std::string& stream);
    /// Events of the streams named `prefix…`, in seq order (see event_store).
    void for_each_event_in(std::string_view prefix, const std::function<void(const core::event&)>& fn);
    std::vector<core::job_record> load_jobs();
    std::vector<core::agent_record> load_agents();
    std::vector<log_line> load_logs(const std::string& job_id, std::int64_t after_seq, std::size_t limit);
    std::int64_t last_seq();
    std::vector<std::pair<std::string, std::int64_t>> load_job_versions();
    std::optional<core::job_record> load_job(const std::string& id);
    std::vector<core::job_record> load_jobs_page(std::size_t limit, const std::string& state, const std::string& before);
    std::optional<core::json> load_run(const std::string& id);
    std::vector<core::json> load_runs_page(std::size_t limit, const std::string& state, const std::string& before);
    std::map<std::string, std::int64_t> count_runs();
    std::map<std::pair<std::string, std::string>, std::int64_t> count_runs_by_workflow();
    std::optional<snapshot_blob> load_snapshot();

private:
    void scan(const sqlite::raw_statement& query, const std::function<void(const core::event&)>& fn);

    std::filesystem::path file_;
    SQLite::Database db_;
    sqlite::raw_statement all_events_, stream_events_, prefix_events_;
    SQLite::Statement jobs_, agents_, logs_, last_seq_;
    SQLite::Statement job_versions_, job_, run_, run_counts_, workflow_run_counts_, snapshot_;
};

}  // namespace orbitmesh::store
