#include "store/event_store.hpp"

#include <memory>
#include <mutex>
#include <span>
#include <vector>
#include <utility>

#include <SQLiteCpp/Database.h>
#include <sqlite3.h>

#include "core/error.hpp"
#include "store/batch_writer.hpp"
#include "store/commit_queue.hpp"
#include "store/event_reader.hpp"
#include "store/open_backend.hpp"
#include "store/schema.hpp"
#include "store/sqlite/checkpointer.hpp"
#include "store/sqlite/connection.hpp"
#include "store/sqlite/migrations.hpp"

namespace orbitmesh::store {
namespace {

// Opens the write connection and brings the file to a state the rest of the store can trust:
// readable, undamaged, current schema.
std::unique_ptr<SQLite::Database> open_writer(const event_store::options& opts) {
    auto db = std::make_unique<SQLite::Database>(sqlite::open_connection(
        opts.path, {.use = sqlite::role::writer, .sync_full = opts.mode == durability::full}));
    sqlite::check_integrity(*db, opts.path);
    sqlite::migrate(*db, opts.path, "store", event_store_migrations());
    return db;
}

class sqlite_event_store final : public event_store {
public:
    explicit sqlite_event_store(const options& opts)
        : opts_(opts),
          db_(open_writer(opts)),
          writer_(std::make_unique<batch_writer>(*db_, opts.path)),
          reader_(std::make_unique<event_reader>(opts.path)),
          checkpointer_(std::make_unique<sqlite::checkpointer>(opts.path, opts.mode == durability::full)) {
        sqlite3_wal_hook(db_->getHandle(), &sqlite_event_store::on_wal_commit, this);
        queue_ = std::make_unique<commit_queue>(
            opts.max_batch_events, "om-writer",
            [this](std::span<const write_batch* const> group, std::vector<std::exception_ptr>& errors) {
                commit_group(group, errors);
            });
    }

    ~sqlite_event_store() override {
        try {
            close();
        } catch (...) {
            // A destructor must not throw, and everything committed is already durable.
        }
    }

    void submit(write_batch batch, commit_callback done) override {
        if (!queue_->submit(std::move(batch), std::move(done))) throw closed_error();
    }
    void flush() override { queue_->flush(); }
    void close() override;
    void for_each_event(const std::function<void(const core::event&)>& fn, std::int64_t after_seq,
                        const std::string& stream) override {
        reader().for_each_event(fn, after_seq, stream);
    }
    void for_each_event_in(std::string_view prefix, const std::function<void(const core::event&)>& fn) override {
        reader().for_each_event_in(prefix, fn);
    }
    std::vector<core::job_record> load_jobs() override { return reader().load_jobs(); }
    std::vector<core::agent_record> load_agents() override { return reader().load_agents(); }
    std::vector<log_line> load_logs(const std::string& job_id, std::int64_t after_seq, std::size_t limit) override {
        return reader().load_logs(job_id, after_seq, limit);
    }
    std::int64_t last_seq() override { return reader().last_seq(); }
    std::vector<std::pair<std::string, std::int64_t>> load_job_versions() override { return reader().load_job_versions(); }
    std::optional<core::job_record> load_job(const std::string& id) override { return reader().load_job(id); }
    std::vector<core::job_record> load_jobs_page(std::size_t limit, const std::string& state,
                                                 const std::string& before) override {
        return reader().load_jobs_page(limit, state, before);
    }
    std::optional<core::json> load_run(const std::string& id) override { return reader().load_run(id); }
    std::vector<core::json> load_runs_page(std::size_t limit, const std::string& state,
                                           const std::string& before) override {
        return reader().load_runs_page(limit, state, before);
    }
    std::map<std::string, std::int64_t> count_runs() override { return reader().count_runs(); }
    std::map<std::pair<std::string, std::string>, std::int64_t> count_runs_by_workflow() override {
        return reader().count_runs_by_workflow();
    }
    std::optional<snapshot_blob> load_snapshot() override { return reader().load_snapshot(); }
    store_stats stats() const override { return queue_->stats(); }

private:
    void commit_group(std::span<const write_batch* const> group, std::vector<std::exception_ptr>& errors);
    void restart_wal();
    static int on_wal_commit(void* self, sqlite3* db, const char* name, int frames);
    event_reader& reader();
    core::error closed_error() const;

    const options opts_;
    std::unique_ptr<SQLite::Database> db_;  // the write connection; closed last
    std::unique_ptr<batch_writer> writer_;
    std::unique_ptr<event_reader> reader_;
    std::unique_ptr<sqlite::checkpointer> checkpointer_;
    int wal_frames_ = 0;  // WAL size in pages after the last commit; writer thread only
    std::mutex close_mutex_;  // a second close() waits for the first to finish
    bool closed_ = false;
    std::unique_ptr<commit_queue> queue_;  // the writer thread; starts once everything above exists;
                                          // kept after close() (joined) for stats()
};

void sqlite_event_store::close() {
    std::lock_guard close_lock(close_mutex_);
    if (closed_) return;
    queue_->close();  // the writer drains the queue before it returns
    checkpointer_.reset();
    reader_.reset();
    writer_.reset();  // finalizes its statements so the connection can close cleanly
    closed_ = true;
    // TRUNCATE leaves an empty WAL behind, so a copied-away data dir is one self-contained file.
    // Best effort: a reader in another process may hold the WAL, and nothing is lost without it.
    try {
        db_->exec("PRAGMA wal_checkpoint(TRUNCATE)");
    } catch (...) {
    }
    db_.reset();
}

int sqlite_event_store::on_wal_commit(void* self, sqlite3*, const char*, int frames) {
    static_cast<sqlite_event_store*>(self)->wal_frames_ = frames;
    return SQLITE_OK;
}

// The checkpointer thread copies the WAL back while the writer keeps appending, so under a
// steady load the WAL never gets fully copied at a moment the writer could start over, and it
// grew without bound (280 MB in a 100k-job run): every commit then extended the file, and
// fdatasync paid for the file's growth. Between two groups the writer finishes the copy itself
// (only the frames since the last background checkpoint are left) so its next transaction
// rewinds the WAL to the start and overwrites it in place.
void sqlite_event_store::restart_wal() {
    auto background = checkpointer_->hold();
    int log = 0, copied = 0;
    const int rc = sqlite3_wal_checkpoint_v2(db_->getHandle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
    if (rc == SQLITE_OK && copied == log) wal_frames_ = 0;  // else (a reader) try after the next group
}

void sqlite_event_store::commit_group(std::span<const write_batch* const> group,
                                      std::vector<std::exception_ptr>& errors) {
    writer_->write_group(group, errors);
    checkpointer_->committed();
    if (wal_frames_ >= opts_.wal_restart_pages) restart_wal();
}

event_reader& sqlite_event_store::reader() {
    if (!reader_) throw closed_error();
    return *reader_;
}

core::error sqlite_event_store::closed_error() const {
    return core::error{core::error_kind::storage,
                       "store " + opts_.path.string() + " is closed; nothing more can be read or written"};
}

}  // namespace

std::unique_ptr<event_store> open_sqlite_store(const event_store::options& opts) {
    try {
        return std::make_unique<sqlite_event_store>(opts);
    } catch (...) {
        throw sqlite::storage_error(opts.path, "opening it");  // core::error passes through as is
    }
}

}  // namespace orbitmesh::store
