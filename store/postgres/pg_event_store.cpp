#include <memory>
#include <mutex>
#include <span>
#include <utility>
#include <vector>

#include "store/commit_queue.hpp"
#include "store/open_backend.hpp"
#include "store/postgres/connection.hpp"
#include "store/postgres/reader.hpp"
#include "store/postgres/schema.hpp"
#include "store/postgres/writer.hpp"

namespace orbitmesh::store {
namespace {

// Held by the writer's own connection: every write of this store goes through the session that
// holds it, so when the session ends (the hub died, the network dropped it) the lock is released
// and this store's later commits fail on the closed connection; a hub that lost the lock can
// never write beside the one that took it over.
void take_hub_lock(postgres::connection& db, const event_store::options& opts) {
    const auto key = std::to_string(postgres::hub_lock_key);
    if (db.query("SELECT pg_try_advisory_lock(" + key + ")", {}, "taking the hub lock").text(0, 0) == "t") return;
    if (opts.on_wait)
        opts.on_wait("another hub holds the store " + db.where() +
                     "; waiting as a standby until its session ends (SPEC §10)");
    db.exec("SELECT pg_advisory_lock(" + key + ")", "waiting for the hub lock");
}

// A connection for the writer, brought to the current schema before anything reads.
std::unique_ptr<postgres::connection> open_writer(const event_store::options& opts) {
    auto db = std::make_unique<postgres::connection>(opts.url);
    // `normal` durability: a commit returns before its WAL record is flushed (a crash of the
    // PostgreSQL server may lose the last moment's commits, never corrupt anything).
    if (opts.mode == durability::normal) db->exec("SET synchronous_commit = off", "setting the durability");
    postgres::migrate(*db);
    // The shared store has no hub lock: every hub is active, the fence keeps them apart.
    if (opts.exclusive && opts.hub_id.empty()) take_hub_lock(*db, opts);
    return db;
}

/// The PostgreSQL event store: a writer connection driven by the shared commit_queue, a reader
/// connection guarded by a mutex (the interface allows one reader at a time; the mutex makes a
/// mistake slow rather than a corrupted libpq connection).
class pg_event_store final : public event_store {
    // Every read goes through here (defined first: its return type is deduced).
    template <typename F>
    auto read(F&& f) {
        std::lock_guard lock(read_mutex_);
        if (!reader_) throw closed_error();
        return f(*reader_);
    }
    core::error closed_error() const {
        return core::error{core::error_kind::storage, "store " + where_ + " is closed; nothing more can be read or written"};
    }

public:
    explicit pg_event_store(const options& opts)
        : where_(postgres::redacted(opts.url)),
          db_(open_writer(opts)),
          writer_(std::make_unique<postgres::writer>(*db_, opts.hub_id)),
          reader_(std::make_unique<postgres::reader>(opts.url)) {
        queue_ = std::make_unique<commit_queue>(
            opts.max_batch_events, "om-pg-writer",
            [this](std::span<const write_batch* const> group, std::vector<std::exception_ptr>& errors) {
                writer_->write_group(group, errors);
            });
    }
    ~pg_event_store() override {
        try {
            close();
        } catch (...) {
            // Everything committed is already durable in the server.
        }
    }

    void submit(write_batch batch, commit_callback done) override {
        if (!queue_->submit(std::move(batch), std::move(done))) throw closed_error();
    }
    void flush() override { queue_->flush(); }
    void close() override {
        std::lock_guard lock(close_mutex_);
        if (closed_) return;
        queue_->close();
        std::lock_guard read_lock(read_mutex_);
        reader_.reset();
        writer_.reset();
        db_.reset();
        closed_ = true;
    }

    void for_each_event(const std::function<void(const core::event&)>& fn, std::int64_t after_seq,
                        const std::string& stream) override {
        read([&](postgres::reader& r) { r.for_each_event(fn, after_seq, stream); });
    }
    void for_each_event_in(std::string_view prefix, const std::function<void(const core::event&)>& fn) override {
        read([&](postgres::reader& r) { r.for_each_event_in(prefix, fn); });
    }
    std::vector<core::job_record> load_jobs() override { return read([](postgres::reader& r) { return r.load_jobs(); }); }
    std::vector<core::agent_record> load_agents() override {
        return read([](postgres::reader& r) { return r.load_agents(); });
    }
    std::vector<log_line> load_logs(const std::string& job_id, std::int64_t after_seq, std::size_t limit) override {
        return read([&](postgres::reader& r) { return r.load_logs(job_id, after_seq, limit); });
    }
    std::int64_t last_seq() override { return read([](postgres::reader& r) { return r.last_seq(); }); }
    std::vector<std::string> streams_begun_elsewhere(std::string_view prefix, const std::string& hub_id) override {
        return read([&](postgres::reader& r) { return r.streams_begun_elsewhere(prefix, hub_id); });
    }
    std::vector<std::string> claim_runs_of(const std::string& dead_hub, const std::string& hub_id) override {
        return read([&](postgres::reader& r) { return r.claim_runs_of(dead_hub, hub_id); });
    }
    std::vector<std::string> claim_jobs(const std::vector<std::string>& job_ids, const std::string& hub_id,
                                        std::int64_t for_ms) override {
        return read([&](postgres::reader& r) { return r.claim_jobs(job_ids, hub_id, for_ms); });
    }
    std::vector<std::pair<std::string, std::int64_t>> load_job_versions() override {
        return read([](postgres::reader& r) { return r.load_job_versions(); });
    }
    std::optional<core::job_record> load_job(const std::string& id) override {
        return read([&](postgres::reader& r) { return r.load_job(id); });
    }
    std::vector<core::job_record> load_jobs_page(std::size_t limit, const std::string& state,
                                                 const std::string& before) override {
        return read([&](postgres::reader& r) { return r.load_jobs_page(limit, state, before); });
    }
    std::optional<core::json> load_run(const std::string& id) override {
        return read([&](postgres::reader& r) { return r.load_run(id); });
    }
    std::vector<core::json> load_runs_page(std::size_t limit, const std::string& state,
                                           const std::string& before) override {
        return read([&](postgres::reader& r) { return r.load_runs_page(limit, state, before); });
    }
    std::map<std::string, std::int64_t> count_runs() override {
        return read([](postgres::reader& r) { return r.count_runs(); });
    }
    std::map<std::pair<std::string, std::string>, std::int64_t> count_runs_by_workflow() override {
        return read([](postgres::reader& r) { return r.count_runs_by_workflow(); });
    }
    std::optional<snapshot_blob> load_snapshot() override {
        return read([](postgres::reader& r) { return r.load_snapshot(); });
    }
    store_stats stats() const override { return queue_->stats(); }

private:

    const std::string where_;
    std::unique_ptr<postgres::connection> db_;  // the writer's connection
    std::unique_ptr<postgres::writer> writer_;
    std::unique_ptr<postgres::reader> reader_;
    std::mutex read_mutex_, close_mutex_;
    bool closed_ = false;
    std::unique_ptr<commit_queue> queue_;  // last: the writer thread starts once the rest exists
};

}  // namespace

std::unique_ptr<event_store> open_postgres_store(const event_store::options& opts) {
    return std::make_unique<pg_event_store>(opts);
}

}  // namespace orbitmesh::store
