#include "store/postgres/schema.hpp"

#include <span>
#include <string>
#include <string_view>

namespace orbitmesh::store::postgres {
namespace {

// The same tables as the SQLite store (store/schema.cpp), in PostgreSQL types. `seq` is assigned
// by the writer under the append lock (not a sequence), so it is gapless and in commit order.
// Log line text is bytea: agent output may hold bytes PostgreSQL's text type refuses (NUL,
// invalid UTF-8), and SQLite keeps them.
constexpr std::string_view v1 = R"sql(
CREATE TABLE events(
    seq     BIGINT PRIMARY KEY,
    stream  TEXT   NOT NULL,
    version BIGINT NOT NULL,
    type    TEXT   NOT NULL,
    data    BYTEA,
    time    BIGINT NOT NULL,
    UNIQUE(stream, version)
);
CREATE TABLE jobs(
    id              TEXT PRIMARY KEY,
    state           TEXT NOT NULL,
    command         TEXT,
    priority        INT,
    attempt         INT,
    agent_id        TEXT,
    idempotency_key TEXT,
    created         BIGINT,
    updated         BIGINT,
    record          TEXT NOT NULL,
    version         BIGINT,
    rowid           BIGSERIAL
);
CREATE INDEX jobs_idempotency_key ON jobs(idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX jobs_state ON jobs(state);
CREATE TABLE agents(
    id      TEXT PRIMARY KEY,
    name    TEXT,
    state   TEXT,
    updated BIGINT,
    record  TEXT NOT NULL
);
CREATE TABLE job_logs(
    job_id    TEXT   NOT NULL,
    seq       BIGINT NOT NULL,
    attempt   INT,
    stream    TEXT,
    data      BYTEA,
    time      BIGINT,
    agent_seq BIGINT,
    PRIMARY KEY(job_id, seq)
);
CREATE TABLE runs(
    id               TEXT PRIMARY KEY,
    state            TEXT NOT NULL,
    workflow_id      TEXT,
    workflow_version TEXT,
    parent_run       TEXT,
    idempotency_key  TEXT,
    created          BIGINT,
    updated          BIGINT,
    version          BIGINT,
    record           TEXT NOT NULL
);
CREATE INDEX runs_state ON runs(state);
CREATE TABLE idempotency_keys(
    kind    TEXT   NOT NULL,
    key     TEXT   NOT NULL,
    id      TEXT   NOT NULL,
    created BIGINT NOT NULL,
    PRIMARY KEY(kind, key)
);
CREATE TABLE snapshots(
    seq    BIGINT PRIMARY KEY,
    time   BIGINT NOT NULL,
    format INT    NOT NULL,
    data   BYTEA  NOT NULL
);
)sql";

// Several active hubs on one database (`serve --shared-store`, SPEC §10): the hub that appended
// each event, the hubs and their heartbeats, the attempt fence of every job, and a lease per
// workflow run. Rows from before v2 have no origin.
constexpr std::string_view v2 = R"sql(
ALTER TABLE events ADD COLUMN origin TEXT;
CREATE TABLE hubs(
    hub_id    TEXT   PRIMARY KEY,
    address   TEXT,
    heartbeat BIGINT NOT NULL,
    started   BIGINT NOT NULL
);
CREATE TABLE job_fence(
    job_id  TEXT PRIMARY KEY,
    attempt INT  NOT NULL,
    state   TEXT NOT NULL
);
CREATE TABLE run_leases(
    run_id  TEXT   PRIMARY KEY,
    hub_id  TEXT   NOT NULL,
    expires BIGINT NOT NULL
);
)sql";

// Job claims (`FOR UPDATE SKIP LOCKED`, store/postgres/reader.cpp): the hub that may assign a
// pending job another hub queued, until claimed_until (the database's clock, ms). And the
// tamper-evident log, as in the SQLite store (store/schema.cpp, v3): each event's hash chained
// over the previous event of its stream, a `log_chain` checkpoint per commit, and where the chain
// begins (events from before this version keep no hash).
constexpr std::string_view v3 = R"sql(
ALTER TABLE job_fence ADD COLUMN claimed_by TEXT;
ALTER TABLE job_fence ADD COLUMN claimed_until BIGINT;
ALTER TABLE events ADD COLUMN hash BYTEA;
CREATE TABLE log_chain(
    seq       BIGINT PRIMARY KEY,
    first_seq BIGINT NOT NULL,
    hash      BYTEA  NOT NULL
);
CREATE TABLE log_chain_start(seq BIGINT NOT NULL);
INSERT INTO log_chain_start(seq) SELECT coalesce(max(seq), 0) + 1 FROM events;
)sql";

constexpr std::string_view steps[] = {v1, v2, v3};

}  // namespace

void migrate(connection& db) {
    const int known = static_cast<int>(std::size(steps));
    db.exec("BEGIN", "starting the schema migration");
    try {
        // Transaction-scoped: released by COMMIT or ROLLBACK, whatever happens below.
        db.exec("SELECT pg_advisory_xact_lock(" + std::to_string(append_lock_key) + ")", "locking the schema");
        db.exec("CREATE TABLE IF NOT EXISTS orbitmesh_schema(version INT NOT NULL)", "creating the schema table");
        auto r = db.query("SELECT coalesce(max(version), 0) FROM orbitmesh_schema", {}, "reading the schema version");
        const auto version = static_cast<int>(r.int64(0, 0));
        if (version > known)
            throw core::error{core::error_kind::storage,
                              "store " + db.where() + " has schema version " + std::to_string(version) +
                                  " but this orbitmesh knows only up to " + std::to_string(known) +
                                  "; it was written by a newer orbitmesh: upgrade, or use another database"};
        for (int v = version; v < known; ++v)
            db.exec(std::string(steps[static_cast<std::size_t>(v)]),
                    "migrating the schema to version " + std::to_string(v + 1));
        if (version < known) {
            db.exec("DELETE FROM orbitmesh_schema", "recording the schema version");
            db.exec("INSERT INTO orbitmesh_schema(version) VALUES(" + std::to_string(known) + ")",
                    "recording the schema version");
        }
        db.exec("COMMIT", "committing the schema migration");
    } catch (...) {
        if (db.in_transaction()) {
            try {
                db.exec("ROLLBACK", "rolling back the schema migration");
            } catch (...) {
            }
        }
        throw;
    }
}

}  // namespace orbitmesh::store::postgres
