#include "store/event_store.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <pthread.h>
#include <thread>
#include <utility>

#include <SQLiteCpp/Database.h>
#include <sqlite3.h>

#include "core/error.hpp"
#include "store/batch_writer.hpp"
#include "store/event_reader.hpp"
#include "store/schema.hpp"
#include "store/sqlite/checkpointer.hpp"
#include "store/sqlite/connection.hpp"
#include "store/sqlite/migrations.hpp"

namespace orbitmesh::store {
namespace {

struct pending_batch {
    write_batch batch;
    commit_callback done;
};

// What `max_batch_events` bounds per transaction: every row a batch writes, not only events,
// so a flood of output lines cannot make one transaction unboundedly large either.
std::size_t rows(const write_batch& b) {
    return b.events.size() + b.jobs.size() + b.agents.size() + b.logs.size() + b.runs.size() + b.keys.size() +
           (b.snapshot ? 1 : 0);
}

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
          checkpointer_(std::make_unique<sqlite::checkpointer>(opts.path, opts.mode == durability::full)),
          thread_([this] { run_writer(); }),
          writer_id_(thread_.get_id()) {}

    ~sqlite_event_store() override {
        try {
            close();
        } catch (...) {
            // A destructor must not throw, and everything committed is already durable.
        }
    }

    void submit(write_batch batch, commit_callback done) override;
    void flush() override;
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
    store_stats stats() const override {
        return {commits_.load(std::memory_order_relaxed), events_.load(std::memory_order_relaxed),
                rows_.load(std::memory_order_relaxed), commit_micros_.load(std::memory_order_relaxed)};
    }

private:
    void run_writer();
    bool take_group(std::vector<pending_batch>& group);
    void commit_group(std::vector<pending_batch>& group);
    void restart_wal();
    static int on_wal_commit(void* self, sqlite3* db, const char* name, int frames);
    event_reader& reader();
    core::error closed_error() const;

    const options opts_;
    std::unique_ptr<SQLite::Database> db_;  // the write connection; closed last
    std::unique_ptr<batch_writer> writer_;
    std::unique_ptr<event_reader> reader_;
    std::unique_ptr<sqlite::checkpointer> checkpointer_;

    std::mutex mutex_;                  // guards the queue and the counters below
    std::condition_variable work_;      // the writer waits here for batches
    std::condition_variable finished_;  // flush() waits here for commits
    std::deque<pending_batch> queue_;
    std::uint64_t submitted_ = 0;      // batches accepted by submit()
    std::uint64_t done_ = 0;           // batches whose callback has run
    bool closing_ = false;
    std::atomic<std::uint64_t> commits_{0}, events_{0}, rows_{0}, commit_micros_{0};
    int wal_frames_ = 0;  // WAL size in pages after the last commit; writer thread only

    std::mutex close_mutex_;  // a second close() waits for the first to finish
    bool closed_ = false;
    std::thread thread_;  // starts once everything above exists
    const std::thread::id writer_id_;  // kept apart from thread_, which close() joins concurrently
};

void sqlite_event_store::submit(write_batch batch, commit_callback done) {
    {
        std::lock_guard lock(mutex_);
        if (closing_) throw closed_error();
        queue_.push_back({std::move(batch), std::move(done)});
        ++submitted_;
    }
    work_.notify_one();
}

void sqlite_event_store::flush() {
    std::unique_lock lock(mutex_);
    const auto target = submitted_;
    if (done_ >= target) return;
    if (std::this_thread::get_id() == writer_id_) {
        throw core::error{core::error_kind::internal,
                          "event_store::flush() called from a commit callback would wait for itself forever"};
    }
    finished_.wait(lock, [&] { return done_ >= target; });
}

void sqlite_event_store::close() {
    std::lock_guard close_lock(close_mutex_);
    if (closed_) return;
    {
        std::lock_guard lock(mutex_);
        closing_ = true;
    }
    work_.notify_one();
    thread_.join();  // the writer drains the queue before it returns
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

void sqlite_event_store::run_writer() {
    pthread_setname_np(pthread_self(), "om-writer");  // for top -H, perf and gdb
    sqlite3_wal_hook(db_->getHandle(), &sqlite_event_store::on_wal_commit, this);
    std::vector<pending_batch> group;
    while (take_group(group)) {
        commit_group(group);
        if (wal_frames_ >= opts_.wal_restart_pages) restart_wal();
        const auto count = group.size();
        group.clear();  // free the batches before telling flush() they are done
        {
            std::lock_guard lock(mutex_);
            done_ += count;
        }
        finished_.notify_all();
    }
}

// Takes everything queued, up to max_batch_events rows (always at least one batch). Returns
// false once close() was called and the queue is drained.
bool sqlite_event_store::take_group(std::vector<pending_batch>& group) {
    std::unique_lock lock(mutex_);
    work_.wait(lock, [this] { return !queue_.empty() || closing_; });
    std::size_t total = 0;
    while (!queue_.empty()) {
        const auto n = rows(queue_.front().batch);
        if (!group.empty() && total + n > opts_.max_batch_events) break;
        total += n;
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
    }
    return !group.empty();
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

void sqlite_event_store::commit_group(std::vector<pending_batch>& group) {
    std::vector<const write_batch*> batches;
    batches.reserve(group.size());
    for (const auto& p : group) batches.push_back(&p.batch);
    std::vector<std::exception_ptr> errors;
    const auto t0 = std::chrono::steady_clock::now();
    writer_->write_group(batches, errors);
    const auto took = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0);
    std::uint64_t events = 0, written = 0;
    for (const auto* b : batches) {
        events += b->events.size();
        written += rows(*b);
    }
    commits_.fetch_add(1, std::memory_order_relaxed);
    events_.fetch_add(events, std::memory_order_relaxed);
    rows_.fetch_add(written, std::memory_order_relaxed);
    commit_micros_.fetch_add(static_cast<std::uint64_t>(took.count()), std::memory_order_relaxed);
    checkpointer_->committed();
    for (std::size_t i = 0; i < group.size(); ++i) {
        if (!group[i].done) continue;
        try {
            group[i].done(errors[i]);
        } catch (...) {
            // A throwing callback must not stop the writer and strand every later commit.
        }
    }
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

std::unique_ptr<event_store> event_store::open(const options& opts) {
    try {
        return std::make_unique<sqlite_event_store>(opts);
    } catch (...) {
        throw sqlite::storage_error(opts.path, "opening it");  // core::error passes through as is
    }
}

}  // namespace orbitmesh::store
