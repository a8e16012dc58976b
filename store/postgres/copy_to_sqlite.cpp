#include <atomic>
#include <unistd.h>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

#include "store/postgres/connection.hpp"
#include "store/schema.hpp"
#include "store/sqlite/connection.hpp"
#include "store/sqlite/migrations.hpp"
#include "store/store_url.hpp"

namespace orbitmesh::store {
namespace {

// Rows move in pages so a big store never sits in memory at once. Each table's columns are read
// in the SQLite table's column order; bytea columns (events.data, job_logs.data, snapshots.data)
// are decoded and bound as blobs.
struct table_copy {
    const char* select;  // ... WHERE key > $1 ORDER BY key LIMIT $2; the key is column 0 (numeric)
    const char* insert;
    int columns;
    std::uint32_t bytea_mask;  // bit i: column i is bytea
    std::uint32_t text_mask;   // bit i: column i is text (else an integer)
};

// Tables with a text key page by a row number over a stable order instead.
constexpr table_copy tables[] = {
    {"SELECT seq, seq, stream, version, type, data, time, hash FROM events WHERE seq > $1 ORDER BY seq LIMIT $2",
     "INSERT INTO events(seq, stream, version, type, data, time, hash) VALUES(?, ?, ?, ?, ?, ?, ?)", 7,
     (1u << 4) | (1u << 6), 0b0001010},
    {"SELECT seq, seq, first_seq, hash FROM log_chain WHERE seq > $1 ORDER BY seq LIMIT $2",
     "INSERT INTO log_chain(seq, first_seq, hash) VALUES(?, ?, ?)", 3, 1u << 2, 0},
    {"SELECT rowid, id, state, command, priority, attempt, agent_id, idempotency_key, created, updated, record, version"
     " FROM jobs WHERE rowid > $1 ORDER BY rowid LIMIT $2",
     "INSERT INTO jobs(id, state, command, priority, attempt, agent_id, idempotency_key, created, updated, record,"
     " version) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
     11, 0, 0b01001100111},
    {"SELECT n, id, name, state, updated, record FROM (SELECT row_number() OVER (ORDER BY id COLLATE \"C\") AS n, *"
     " FROM agents) a WHERE n > $1 ORDER BY n LIMIT $2",
     "INSERT INTO agents(id, name, state, updated, record) VALUES(?, ?, ?, ?, ?)", 5, 0, 0b10111},
    {"SELECT n, job_id, seq, attempt, stream, data, time, agent_seq FROM (SELECT row_number() OVER"
     " (ORDER BY job_id COLLATE \"C\", seq) AS n, * FROM job_logs) l WHERE n > $1 ORDER BY n LIMIT $2",
     "INSERT INTO job_logs(job_id, seq, attempt, stream, data, time, agent_seq) VALUES(?, ?, ?, ?, ?, ?, ?)", 7,
     1u << 4, 0b0001001},
    {"SELECT n, id, state, workflow_id, workflow_version, parent_run, idempotency_key, created, updated, version,"
     " record FROM (SELECT row_number() OVER (ORDER BY id COLLATE \"C\") AS n, * FROM runs) r WHERE n > $1"
     " ORDER BY n LIMIT $2",
     "INSERT INTO runs(id, state, workflow_id, workflow_version, parent_run, idempotency_key, created, updated,"
     " version, record) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
     10, 0, 0b1000111111},
    {"SELECT n, kind, key, id, created FROM (SELECT row_number() OVER (ORDER BY kind, key COLLATE \"C\") AS n, *"
     " FROM idempotency_keys) k WHERE n > $1 ORDER BY n LIMIT $2",
     "INSERT INTO idempotency_keys(kind, key, id, created) VALUES(?, ?, ?, ?)", 4, 0, 0b0111},
    {"SELECT seq, seq, time, format, data FROM snapshots WHERE seq > $1 ORDER BY seq LIMIT $2",
     "INSERT INTO snapshots(seq, time, format, data) VALUES(?, ?, ?, ?)", 4, 1u << 3, 0},
};

constexpr std::int64_t page_rows = 5000;

void copy_table(postgres::connection& pg, SQLite::Database& db, const table_copy& t) {
    SQLite::Statement insert(db, t.insert);
    std::int64_t after = 0;
    for (;;) {
        postgres::params p;
        p.int64(after).int64(page_rows);
        const auto r = pg.query(t.select, p, "copying the store");
        for (int i = 0; i < r.rows(); ++i) {
            after = r.int64(i, 0);
            insert.reset();
            insert.clearBindings();
            std::vector<std::string> keep;  // blobs decoded for this row
            keep.reserve(static_cast<std::size_t>(t.columns));
            for (int c = 0; c < t.columns; ++c) {
                const int col = c + 1;
                if (r.null(i, col)) continue;  // stays NULL
                if ((t.bytea_mask >> c) & 1u) {
                    keep.push_back(r.bytes(i, col));
                    insert.bindNoCopy(c + 1, keep.back().data(), static_cast<int>(keep.back().size()));
                } else if ((t.text_mask >> c) & 1u) {
                    insert.bind(c + 1, std::string(r.text(i, col)));
                } else {
                    insert.bind(c + 1, static_cast<std::int64_t>(r.int64(i, col)));
                }
            }
            insert.exec();
        }
        if (r.rows() < page_rows) return;
    }
}

}  // namespace

bool is_postgres_url(std::string_view url) noexcept { return postgres::is_postgres_url(url); }
std::string redacted_url(std::string_view url) { return postgres::redacted(url); }
void check_postgres_url(std::string_view url) { postgres::check_url(url); }

void copy_postgres_to_sqlite(const std::string& url, const std::filesystem::path& file) {
    postgres::connection pg(url);
    pg.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "starting a consistent read of the store");
    auto exists = pg.query("SELECT to_regclass('orbitmesh_schema') IS NOT NULL", {}, "reading the schema");
    if (exists.text(0, 0) != "t")
        throw core::error{core::error_kind::storage,
                          "store " + pg.where() + " has no OrbitMesh schema; start `orbitmesh serve --store URL` on it first"};
    try {
        auto db = sqlite::open_connection(file, {.use = sqlite::role::writer, .sync_full = false});
        sqlite::migrate(db, file, "store", event_store_migrations());
        SQLite::Transaction tx(db);
        for (const auto& t : tables) copy_table(pg, db, t);
        // Where the PostgreSQL store's chain begins (events from before its schema v3 have no hash).
        auto start = pg.query("SELECT coalesce(min(seq), 1) FROM log_chain_start", {}, "reading where the chain begins");
        SQLite::Statement set_start(db, "UPDATE log_chain_start SET seq = ?");
        set_start.bind(1, static_cast<std::int64_t>(start.int64(0, 0)));
        set_start.exec();
        tx.commit();
    } catch (const core::error&) {
        throw;
    } catch (...) {
        throw sqlite::storage_error(file, "copying the PostgreSQL store into it");
    }
    pg.exec("COMMIT", "finishing the read of the store");
}

namespace {

void remove_store_files(const std::filesystem::path& file) noexcept {
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(file.string() + suffix, ec);
}

}  // namespace

sqlite_view::sqlite_view(std::filesystem::path file, const std::string& url) : file_(std::move(file)) {
    if (url.empty()) return;
    static std::atomic<int> counter{0};
    file_ = std::filesystem::temp_directory_path() /
            ("orbitmesh-pg-copy-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".db");
    remove_store_files(file_);
    temporary_ = true;
    try {
        copy_postgres_to_sqlite(url, file_);
    } catch (...) {
        remove_store_files(file_);
        throw;
    }
}

sqlite_view::~sqlite_view() {
    if (temporary_) remove_store_files(file_);
}

}  // namespace orbitmesh::store
