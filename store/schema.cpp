#include "store/schema.hpp"

namespace orbitmesh::store {
namespace {

// Version 1: the event log (source of truth) and the projections operators query with sqlite3.
// `events.data` is MessagePack of the event's JSON; projection `record`s are JSON text.
constexpr std::string_view v1 = R"sql(
CREATE TABLE events(
    seq     INTEGER PRIMARY KEY,
    stream  TEXT    NOT NULL,
    version INTEGER NOT NULL,
    type    TEXT    NOT NULL,
    data    BLOB,
    time    INTEGER NOT NULL,
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
    created         INT,
    updated         INT,
    record          TEXT NOT NULL
);
CREATE INDEX jobs_idempotency_key ON jobs(idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX jobs_state ON jobs(state);
CREATE TABLE agents(
    id      TEXT PRIMARY KEY,
    name    TEXT,
    state   TEXT,
    updated INT,
    record  TEXT NOT NULL
);
CREATE TABLE job_logs(
    job_id  TEXT NOT NULL,
    seq     INT  NOT NULL,
    attempt INT,
    stream  TEXT,
    data    TEXT,
    time    INT,
    PRIMARY KEY(job_id, seq)
);
)sql";

// Version 2 (issue 9): finished runs get a projection table like `jobs` (the hub no longer keeps
// every run in memory), idempotency keys get theirs (`replay --verify` rebuilds and checks it),
// job rows carry their stream version as a column (cheap to compare without parsing `record`),
// output lines keep the agent's own seq (an agent resends what the hub may have missed after a
// reconnect; a restarted hub tells the lines it already has by it),
// and the hub keeps snapshots of its live state at a recorded seq so a start folds only the tail.
constexpr std::string_view v2 = R"sql(
ALTER TABLE jobs ADD COLUMN version INT;
ALTER TABLE job_logs ADD COLUMN agent_seq INT;
CREATE TABLE runs(
    id               TEXT PRIMARY KEY,
    state            TEXT NOT NULL,
    workflow_id      TEXT,
    workflow_version TEXT,
    parent_run       TEXT,
    idempotency_key  TEXT,
    created          INT,
    updated          INT,
    version          INT,
    record           TEXT NOT NULL
);
CREATE INDEX runs_state ON runs(state);
CREATE TABLE idempotency_keys(
    kind    TEXT NOT NULL,
    key     TEXT NOT NULL,
    id      TEXT NOT NULL,
    created INT  NOT NULL,
    PRIMARY KEY(kind, key)
);
CREATE TABLE snapshots(
    seq    INTEGER PRIMARY KEY,
    time   INT  NOT NULL,
    format INT  NOT NULL,
    data   BLOB NOT NULL
);
)sql";

// Version 3 (issue 14): the tamper-evident log. Every event gets `hash`, SHA-256 chained over the
// previous event of its stream (store/event_hash.hpp), and every commit group a `log_chain`
// checkpoint chaining the hashes of its events onto the checkpoint before. SQL cannot compute
// SHA-256, so events written before this version are not backfilled: they keep `hash` NULL and
// `log_chain_start` records where the chain begins (the first seq written after the migration).
// From there on every event must carry a hash; a NULL one is reported by `replay --verify`.
constexpr std::string_view v3 = R"sql(
ALTER TABLE events ADD COLUMN hash BLOB;
CREATE TABLE log_chain(
    seq       INTEGER PRIMARY KEY,
    first_seq INT  NOT NULL,
    hash      BLOB NOT NULL
);
CREATE TABLE log_chain_start(seq INT NOT NULL);
INSERT INTO log_chain_start(seq) SELECT coalesce(max(seq), 0) + 1 FROM events;
)sql";

constexpr std::string_view steps[] = {v1, v2, v3};

}  // namespace

std::span<const std::string_view> event_store_migrations() noexcept { return steps; }

}  // namespace orbitmesh::store
