#include "store/postgres/reader.hpp"

#include <algorithm>

#include "core/clock.hpp"
#include "core/upcast.hpp"

namespace orbitmesh::store::postgres {
namespace {

// Events are read in pages by seq, so a long log never sits in memory at once.
constexpr std::int64_t page_rows = 2000;

template <typename Record, typename Parse>
std::vector<Record> records(const result& r, const std::string& where, std::string_view what, Parse parse) {
    std::vector<Record> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
        try {
            out.push_back(parse(core::json::parse(r.text(i, 1))));
        } catch (const std::exception& e) {
            throw core::error{core::error_kind::storage,
                              "store " + where + ": the " + std::string(what) + " record of " + std::string(r.text(i, 0)) +
                                  " is unreadable (" + e.what() + "); run `orbitmesh replay --verify`"};
        }
    }
    return out;
}

core::job_record job_of(const core::json& j) { return core::job_record_from_json(j); }
core::agent_record agent_of(const core::json& j) { return core::agent_record_from_json(j); }
core::json json_of(core::json j) { return j; }

std::vector<std::string> first_column(const result& r) {
    std::vector<std::string> out;
    for (int i = 0; i < r.rows(); ++i) out.emplace_back(r.text(i, 0));
    return out;
}

}  // namespace

void read_event_row(const result& r, int row, core::event& e) {
    e.seq = r.int64(row, 0);
    e.stream.assign(r.text(row, 1));
    e.version = r.int64(row, 2);
    e.type.assign(r.text(row, 3));
    e.time_ms = r.int64(row, 5);
    e.packed.clear();
    try {
        e.data = r.null(row, 4) ? core::json() : core::json::from_msgpack(r.bytes(row, 4));
        core::upcast(e);
    } catch (const core::json::exception&) {
        e.data = core::json(core::json::value_t::discarded);
    }
}

reader::reader(const std::string& url) : db_(url) {}

void reader::scan(const std::string& sql, params& base, std::int64_t after_seq,
                  const std::function<void(const core::event&)>& fn) {
    core::event e;
    for (;;) {
        params p = base;
        p.int64(after_seq).int64(page_rows);
        const auto r = db_.query(sql, p, "reading events");
        for (int i = 0; i < r.rows(); ++i) {
            read_event_row(r, i, e);
            after_seq = e.seq;
            fn(e);
        }
        if (r.rows() < page_rows) return;
    }
}

void reader::for_each_event(const std::function<void(const core::event&)>& fn, std::int64_t after_seq,
                            const std::string& stream) {
    params p;
    if (stream.empty()) {
        scan("SELECT seq, stream, version, type, data, time FROM events WHERE seq > $1 ORDER BY seq LIMIT $2", p,
             after_seq, fn);
    } else {
        p.text(stream);
        scan("SELECT seq, stream, version, type, data, time FROM events WHERE stream = $1 AND seq > $2 ORDER BY seq"
             " LIMIT $3",
             p, after_seq, fn);
    }
}

void reader::for_each_event_in(std::string_view prefix, const std::function<void(const core::event&)>& fn) {
    if (prefix.empty() || static_cast<unsigned char>(prefix.back()) == 0xff)
        throw core::error{core::error_kind::internal, "for_each_event_in needs a prefix not ending in 0xff"};
    std::string lower(prefix), upper(prefix);
    upper.back() = static_cast<char>(upper.back() + 1);
    params p;
    p.text(lower).text(upper);
    // COLLATE "C": byte order, as SQLite compares, whatever the database's collation is.
    scan("SELECT seq, stream, version, type, data, time FROM events WHERE stream COLLATE \"C\" >= $1"
         " AND stream COLLATE \"C\" < $2 AND seq > $3 ORDER BY seq LIMIT $4",
         p, 0, fn);
}

std::vector<std::string> reader::streams_begun_elsewhere(std::string_view prefix, const std::string& hub_id) {
    std::string lower(prefix), upper(prefix);
    upper.back() = static_cast<char>(upper.back() + 1);
    params p;
    p.text(lower).text(upper).text(hub_id);
    // A run's lease (taken over from a dead hub) outranks who began it.
    const auto r = db_.query("SELECT e.stream FROM events e LEFT JOIN run_leases l ON e.stream = 'run-' || l.run_id"
                             " WHERE e.stream COLLATE \"C\" >= $1 AND e.stream COLLATE \"C\" < $2 AND e.version = 1"
                             " AND coalesce(l.hub_id, e.origin) IS NOT NULL AND coalesce(l.hub_id, e.origin) <> $3",
                             p, "reading other hubs' streams");
    return first_column(r);
}

std::vector<std::string> reader::claim_runs_of(const std::string& dead_hub, const std::string& hub_id) {
    params p;
    const std::string now = std::to_string(core::now_ms());
    p.text(dead_hub).text(hub_id).text(now);
    // The runs the dead hub drove and that have not ended (no terminal run event); the insert
    // takes a run with no lease yet, the update only one whose lease is still the dead hub's, so
    // when two hubs claim at once the second finds the first's lease and gets nothing.
    const auto r = db_.query(
        "INSERT INTO run_leases (run_id, hub_id, expires)"
        " SELECT substr(e.stream, 5), $2, $3::bigint FROM events e"
        " LEFT JOIN run_leases l ON e.stream = 'run-' || l.run_id"
        " WHERE e.stream COLLATE \"C\" >= 'run-' AND e.stream COLLATE \"C\" < 'run.' AND e.version = 1"
        " AND coalesce(l.hub_id, e.origin) = $1"
        " AND NOT EXISTS (SELECT 1 FROM events f WHERE f.stream = e.stream AND f.type = 'run.finished')"
        " ON CONFLICT (run_id) DO UPDATE SET hub_id = excluded.hub_id, expires = excluded.expires"
        " WHERE run_leases.hub_id = $1"
        " RETURNING run_id",
        p, "taking over a dead hub's runs");
    return first_column(r);
}

std::vector<std::string> reader::claim_jobs(const std::vector<std::string>& job_ids, const std::string& hub_id,
                                            std::int64_t for_ms) {
    if (job_ids.empty()) return {};
    const auto list = text_array(job_ids);
    params p;
    p.text(list).text(hub_id).int64(for_ms);
    // One statement, its own transaction, outside the append lock: rows another hub's claim holds
    // are skipped (SKIP LOCKED), rows it claimed before and still holds are not taken.
    const auto r = db_.query(
        "WITH now_ms AS (SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS t),"
        " free AS (SELECT job_id FROM job_fence, now_ms WHERE job_id = ANY($1::text[]) AND state = 'p'"
        "   AND (claimed_by IS NULL OR claimed_by = $2 OR claimed_until < now_ms.t)"
        "   ORDER BY job_id FOR UPDATE OF job_fence SKIP LOCKED)"
        " UPDATE job_fence f SET claimed_by = $2, claimed_until = (SELECT t FROM now_ms) + $3::bigint"
        " FROM free WHERE f.job_id = free.job_id RETURNING f.job_id",
        p, "claiming " + std::to_string(job_ids.size()) + " jobs");
    return first_column(r);
}

std::vector<core::job_record> reader::load_jobs() {
    return records<core::job_record>(db_.query("SELECT id, record FROM jobs ORDER BY id COLLATE \"C\"", {}, "loading jobs"),
                                     db_.where(), "job", job_of);
}

std::vector<core::agent_record> reader::load_agents() {
    return records<core::agent_record>(db_.query("SELECT id, record FROM agents ORDER BY id COLLATE \"C\"", {}, "loading agents"),
                                       db_.where(), "agent", agent_of);
}

std::vector<log_line> reader::load_logs(const std::string& job_id, std::int64_t after_seq, std::size_t limit) {
    params p;
    p.text(job_id).int64(after_seq).int64(static_cast<std::int64_t>(std::min<std::size_t>(limit, 1'000'000'000)));
    const auto r = db_.query(
        "SELECT job_id, seq, attempt, stream, data, time, coalesce(agent_seq, 0) FROM job_logs"
        " WHERE job_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        p, "loading the output of job " + job_id);
    std::vector<log_line> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
        auto& l = out.emplace_back();
        l.job_id.assign(r.text(i, 0));
        l.seq = r.int64(i, 1);
        l.attempt = static_cast<int>(r.int64(i, 2));
        l.stream.assign(r.text(i, 3));
        l.data = r.bytes(i, 4);
        l.time_ms = r.int64(i, 5);
        l.agent_seq = r.int64(i, 6);
    }
    return out;
}

std::int64_t reader::last_seq() {
    return db_.query("SELECT coalesce(max(seq), 0) FROM events", {}, "reading the last event seq").int64(0, 0);
}

std::vector<std::pair<std::string, std::int64_t>> reader::load_job_versions() {
    const auto r = db_.query("SELECT id, coalesce(version, -1) FROM jobs", {}, "loading the versions of job rows");
    std::vector<std::pair<std::string, std::int64_t>> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) out.emplace_back(std::string(r.text(i, 0)), r.int64(i, 1));
    return out;
}

std::optional<core::job_record> reader::load_job(const std::string& id) {
    params p;
    p.text(id);
    auto rows = records<core::job_record>(db_.query("SELECT id, record FROM jobs WHERE id = $1", p, "loading job " + id),
                                          db_.where(), "job", job_of);
    if (rows.empty()) return std::nullopt;
    return std::move(rows.front());
}

// Values are bound; only the shape of the WHERE clause varies (as the SQLite reader).
result reader::page(const char* table, std::size_t limit, const std::string& state, const std::string& before) {
    std::string sql = std::string("SELECT id, record FROM ") + table + " WHERE true";
    params p;
    p.int64(static_cast<std::int64_t>(std::min<std::size_t>(limit, 1'000'000)));
    int n = 1;
    if (!state.empty()) {
        sql += " AND state = $" + std::to_string(++n);
        p.text(state);
    }
    if (!before.empty()) {
        sql += " AND id COLLATE \"C\" < $" + std::to_string(++n);
        p.text(before);
    }
    sql += " ORDER BY id COLLATE \"C\" DESC LIMIT $1";
    return db_.query(sql, p, std::string("listing ") + table);
}

std::vector<core::job_record> reader::load_jobs_page(std::size_t limit, const std::string& state,
                                                     const std::string& before) {
    return records<core::job_record>(page("jobs", limit, state, before), db_.where(), "job", job_of);
}

std::optional<core::json> reader::load_run(const std::string& id) {
    params p;
    p.text(id);
    auto rows = records<core::json>(db_.query("SELECT id, record FROM runs WHERE id = $1", p, "loading run " + id),
                                    db_.where(), "run", json_of);
    if (rows.empty()) return std::nullopt;
    return std::move(rows.front());
}

std::vector<core::json> reader::load_runs_page(std::size_t limit, const std::string& state, const std::string& before) {
    return records<core::json>(page("runs", limit, state, before), db_.where(), "run", json_of);
}

std::map<std::string, std::int64_t> reader::count_runs() {
    const auto r = db_.query("SELECT state, count(*) FROM runs GROUP BY state", {}, "counting runs");
    std::map<std::string, std::int64_t> out;
    for (int i = 0; i < r.rows(); ++i) out[std::string(r.text(i, 0))] = r.int64(i, 1);
    return out;
}

std::map<std::pair<std::string, std::string>, std::int64_t> reader::count_runs_by_workflow() {
    const auto r = db_.query("SELECT coalesce(workflow_id, ''), state, count(*) FROM runs GROUP BY 1, 2", {},
                             "counting runs per workflow");
    std::map<std::pair<std::string, std::string>, std::int64_t> out;
    for (int i = 0; i < r.rows(); ++i) out[{std::string(r.text(i, 0)), std::string(r.text(i, 1))}] = r.int64(i, 2);
    return out;
}

std::optional<snapshot_blob> reader::load_snapshot() {
    const auto r = db_.query("SELECT seq, time, format, data FROM snapshots ORDER BY seq DESC LIMIT 1", {},
                             "loading the newest snapshot");
    if (r.rows() == 0) return std::nullopt;
    snapshot_blob b;
    b.seq = r.int64(0, 0);
    b.time_ms = r.int64(0, 1);
    b.format = static_cast<int>(r.int64(0, 2));
    b.data = r.bytes(0, 3);
    return b;
}

}  // namespace orbitmesh::store::postgres
