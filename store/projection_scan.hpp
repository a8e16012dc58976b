#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "store/event_store.hpp"

namespace orbitmesh::store {

/// A `jobs` row as stored, in place (valid during the callback only). NULL text reads as empty.
struct job_row_view {
    std::string_view id, state, command, agent_id, idempotency_key, record;
    std::int64_t priority = 0, attempt = 0, created_ms = 0, updated_ms = 0;
    std::int64_t version = -1;  // -1: a row from before rows carried their version
};

struct agent_row_view {
    std::string_view id, name, state, record;
};

struct run_row_view {
    std::string_view id, state, workflow_id, workflow_version, parent_run, idempotency_key, record;
    std::int64_t created_ms = 0, updated_ms = 0, version = 0;
};

struct key_row_view {
    std::string_view kind, key, id;
    std::int64_t created_ms = 0;
};

/// A stored snapshot without its data.
struct snapshot_meta {
    std::int64_t seq = 0;
    std::int64_t time_ms = 0;
    int format = 0;
    std::size_t bytes = 0;
};

/// The projection tables read in place, for `replay --verify`: its own read-only connection;
/// rows handed out as views. A table the store's schema does not have yet (a store written
/// before it existed and not migrated since) reads as empty and `has_table` says so. One read
/// at a time per object.
class projection_scan {
public:
    explicit projection_scan(const std::filesystem::path& file);
    ~projection_scan();
    projection_scan(const projection_scan&) = delete;
    projection_scan& operator=(const projection_scan&) = delete;

    bool has_table(std::string_view name);
    /// Rows with after < rowid <= last, in the table's own order (no index: a read by id would
    /// seek the table once per row). Split a read by rowid ranges to read in parallel.
    void jobs(std::int64_t after, std::int64_t last, const std::function<void(const job_row_view&)>& fn);
    /// The highest rowid of the jobs table (0: empty).
    std::int64_t job_rowid_max();
    void agents(const std::function<void(const agent_row_view&)>& fn);
    void runs(const std::function<void(const run_row_view&)>& fn);
    void keys(const std::function<void(const key_row_view&)>& fn);
    std::vector<snapshot_meta> snapshots();
    /// The newest snapshot with its data, or nullopt.
    std::optional<snapshot_blob> newest_snapshot();

private:
    struct impl;
    std::filesystem::path file_;
    std::unique_ptr<impl> impl_;
};

}  // namespace orbitmesh::store
