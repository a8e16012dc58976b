// Replay over real store files: the parallel fold equals one pass, and verify names what differs.
#include <catch2/catch.hpp>

#include <SQLiteCpp/SQLiteCpp.h>

#include <algorithm>
#include <future>
#include <map>
#include <set>

#include "../store/temp_dir.hpp"
#include "core/agent_machine.hpp"
#include "core/job_events.hpp"
#include "core/job_text.hpp"
#include "core/run_events.hpp"
#include "core/snapshot.hpp"
#include "engine/replay/log_fold.hpp"
#include "engine/replay/verify.hpp"
#include "store/event_store.hpp"

using namespace orbitmesh;
using store::test::temp_dir;

namespace {

/// Writes a log as the hub would: events folded with core::apply, rows rendered from the records.
struct log_writer {
    explicit log_writer(const temp_dir& dir) : store(open_sqlite(dir / "orbitmesh.db")) {}
    static std::unique_ptr<store::event_store> open_sqlite(const std::filesystem::path& file) {
        store::event_store::options o;  // field by field: the PostgreSQL fields stay default
        o.path = file;
        return store::event_store::open(o);
    }

    void job(const std::string& id, std::string_view type, core::json data) {
        auto& r = jobs[id];
        if (r.version == 0 && type == core::job_event::submitted) {
            r.id = id;
            data = {{"id", id}, {"spec", std::move(data)}};
        }
        auto e = core::make_job_event(r, type, std::move(data));
        e.time_ms = ++clock;
        core::apply(r, e);
        batch.events.push_back(std::move(e));
    }
    void agent(const std::string& id, std::string_view type) {
        auto e = core::make_event("agent-" + id, agent_versions[id]++, type, {{"name", "agent " + id}, {"concurrency", 2}});
        e.time_ms = ++clock;
        batch.events.push_back(std::move(e));
    }
    void run(const std::string& id, std::string_view type, core::json data) {
        auto& r = runs[id];
        r.id = id;
        auto e = core::make_run_event(r, type, std::move(data));
        e.time_ms = ++clock;
        core::apply(r, e);
        batch.events.push_back(std::move(e));
    }
    /// Commits what was written, with rows for every job and run (all of them: `rows`).
    void commit(bool rows = true) {
        if (rows) {
            for (const auto& [id, r] : jobs) {
                batch.jobs.emplace_back(r);
                if (!r.spec.idempotency_key.empty()) batch.keys.push_back({"job", r.spec.idempotency_key, id, r.created_ms});
            }
            for (const auto& [id, r] : runs) {
                batch.runs.emplace_back(r);
                if (!r.idempotency_key.empty()) batch.keys.push_back({"run", r.idempotency_key, id, r.created_ms});
            }
            for (const auto& [id, n] : agent_versions) {
                core::agent_record a;
                a.id = id;
                a.name = "agent " + id;
                a.concurrency = 2;
                a.state = last_agent_state[id];
                batch.agents.push_back(a);
            }
        }
        std::promise<std::exception_ptr> done;
        store->submit(std::move(batch), [&done](std::exception_ptr e) { done.set_value(e); });
        REQUIRE_FALSE(done.get_future().get());
        batch = {};
    }
    /// A snapshot of the state now, as the hub takes it.
    void snapshot() {
        core::hub_snapshot s;
        for (const auto& [id, r] : jobs) {
            ++s.job_counts[static_cast<std::size_t>(r.state)];
            if (!core::is_terminal(r.state)) s.jobs.push_back(r);
        }
        for (const auto& [id, n] : agent_versions) {
            core::agent_record a;
            a.id = id;
            s.agents.push_back({a, n, last_agent_state[id] == core::agent_state::connected});
        }
        for (const auto& [id, r] : runs) ++s.run_counts[std::string(core::to_string(r.state))];
        batch.snapshot = store::snapshot_blob{0, clock, core::hub_snapshot::format, core::encode(s)};
        commit(true);
    }

    std::unique_ptr<store::event_store> store;
    store::write_batch batch;
    std::map<std::string, core::job_record> jobs;
    std::map<std::string, core::run_record> runs;
    std::map<std::string, std::int64_t> agent_versions;
    std::map<std::string, core::agent_state> last_agent_state;
    std::int64_t clock = 1'700'000'000'000;
};

core::json spec(int i) {
    core::job_spec s;
    s.command = i % 3 == 0 ? "shell" : "echo";
    s.payload = i % 2 ? core::json("line \"" + std::to_string(i) + "\"\n") : core::json{{"n", i}, {"f", 0.5}};
    if (i % 5 == 0) s.idempotency_key = "key-" + std::to_string(i % 15);
    return core::to_json(s);
}

std::string job_id(int i) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "01900000-0000-7000-8000-%012d", i);
    return buf;
}

/// 200 jobs whose events interleave, agents that come and go, a run: streams straddle any split.
void write_history(log_writer& w) {
    w.agent("a1", core::agent_event::connected);
    w.last_agent_state["a1"] = core::agent_state::connected;
    for (int i = 0; i < 200; ++i) w.job(job_id(i), core::job_event::submitted, spec(i));
    w.run("r1", core::run_event::started, {{"id", "r1"}, {"workflow", {{"id", "wf"}}}, {"idempotency_key", "rk"}});
    for (int i = 0; i < 200; ++i) w.job(job_id(i), core::job_event::assigned, {{"attempt", 1}, {"agent_id", "a1"}, {"agent_name", "agent a1"}});
    w.agent("a2", core::agent_event::connected);
    for (int i = 0; i < 200; i += 2) w.job(job_id(i), core::job_event::started, {{"attempt", 1}});
    w.run("r1", core::run_event::step_started, {{"path", "build"}, {"type", "job"}, {"attempt", 1}, {"job_ids", {job_id(4)}}});
    for (int i = 0; i < 200; ++i) {
        if (i % 7 == 0) w.job(job_id(i), core::job_event::requeued, {{"attempt", 1}, {"reason", "agent_lost"}, {"counts", true}});
        else w.job(job_id(i), core::job_event::finished, {{"attempt", 1}, {"state", i % 4 ? "succeeded" : "failed"}, {"exit_code", i % 4 ? 0 : 1}, {"output", i}, {"error", ""}});
    }
    w.agent("a1", core::agent_event::disconnected);
    w.last_agent_state["a1"] = core::agent_state::disconnected;
    w.last_agent_state["a2"] = core::agent_state::connected;
    for (int i = 0; i < 200; i += 7) {
        w.job(job_id(i), core::job_event::assigned, {{"attempt", 2}, {"agent_id", "a2"}, {"agent_name", "agent a2"}});
        w.job(job_id(i), core::job_event::finished, {{"attempt", 2}, {"state", "succeeded"}, {"exit_code", 0}, {"output", "again"}, {"error", ""}});
    }
    for (int i = 0; i < 200; i += 4)
        if (i % 7 != 0) w.job(job_id(i), core::job_event::retried, core::json::object());  // the failed ones
    w.run("r1", core::run_event::step_finished, {{"path", "build"}, {"state", "succeeded"}, {"output", 1}});
    w.run("r1", core::run_event::finished, {{"state", "succeeded"}});
}

std::map<std::string, std::string> fingerprint(const engine::replay::log_state& s) {
    std::map<std::string, std::string> out;
    for (const auto& j : s.jobs()) out["job " + std::string(j.id)] = engine::replay::record_text(j);
    for (const auto& [id, a] : s.agents) out["agent " + id] = core::to_json(core::to_record(a)).dump() + std::to_string(a.events);
    for (const auto& [id, r] : s.runs) out["run " + id] = core::to_json(r).dump();
    for (const auto& [k, e] : s.keys) out["key " + k.first + ":" + k.second] = e.id;
    out["events"] = std::to_string(s.events) + " refused " + std::to_string(s.refused_count);
    return out;
}

}  // namespace

TEST_CASE("replay: a log folded in many ranges on several threads equals one pass over it") {
    temp_dir dir;
    {
        log_writer w(dir);
        write_history(w);
        w.commit();
    }
    engine::replay::fold_options one;
    one.threads = 1;
    const auto whole = fingerprint(engine::replay::fold_log(dir / "orbitmesh.db", one));
    REQUIRE(whole.size() > 200);
    for (std::int64_t range : {7, 50, 333}) {
        engine::replay::fold_options split;
        split.threads = 4;
        split.min_range = range;
        INFO("ranges of " << range << " events");
        CHECK(fingerprint(engine::replay::fold_log(dir / "orbitmesh.db", split)) == whole);
    }
    // and paused in the middle, the state there is the fold of the events up to that seq
    engine::replay::fold_options paused;
    paused.threads = 4;
    paused.min_range = 20;
    paused.pause_at = 300;
    std::map<std::string, std::string> at_pause;
    paused.at_pause = [&](const engine::replay::log_state& s) { at_pause = fingerprint(s); };
    engine::replay::fold_log(dir / "orbitmesh.db", paused);
    engine::replay::fold_options upto;
    upto.threads = 1;
    upto.until = 300;
    CHECK(at_pause == fingerprint(engine::replay::fold_log(dir / "orbitmesh.db", upto)));
}

TEST_CASE("replay verify: a store whose rows match its events is clean; tampering is named, lag is not") {
    temp_dir dir;
    {
        log_writer w(dir);
        write_history(w);
        w.commit();
    }
    engine::replay::verify_options opts;
    opts.threads = 2;
    opts.min_range = 50;
    auto clean = engine::replay::verify_store(dir / "orbitmesh.db", opts);
    CHECK(clean.ok());
    CHECK(clean.jobs == 200);
    CHECK(clean.runs == 1);
    CHECK(clean.keys == 4);  // key-0, key-5, key-10 and the run's rk
    CHECK(clean.lagging == 0);

    SQLite::Database db(dir / "orbitmesh.db", SQLite::OPEN_READWRITE);
    SECTION("a state changed by hand") {
        db.exec("UPDATE jobs SET state = 'dead' WHERE id = '" + job_id(1) + "'");
        auto r = engine::replay::verify_store(dir / "orbitmesh.db", opts);
        REQUIRE(r.difference_count == 1);
        CHECK(r.differences[0].object == "job " + job_id(1));
        CHECK(r.differences[0].field == "state");
        CHECK(r.differences[0].stored == "dead");
        CHECK(r.differences[0].rebuilt == "succeeded");
    }
    SECTION("a record edited behind its columns") {
        db.exec("UPDATE jobs SET record = replace(record, '\"output\":1,', '\"output\":2,') WHERE id = '" + job_id(1) + "'");
        auto r = engine::replay::verify_store(dir / "orbitmesh.db", opts);
        REQUIRE(r.difference_count == 1);
        CHECK(r.differences[0].field == "record.output");
        CHECK(r.differences[0].stored == "2");
        CHECK(r.differences[0].rebuilt == "1");
    }
    SECTION("a key pointing elsewhere, a run row gone, an agent row without events") {
        db.exec("UPDATE idempotency_keys SET id = 'someone-else' WHERE key = 'key-5'");
        db.exec("DELETE FROM runs");
        db.exec("INSERT INTO agents(id, name, state, record) VALUES('ghost', 'g', 'connected', '{}')");
        auto r = engine::replay::verify_store(dir / "orbitmesh.db", opts);
        std::map<std::string, std::string> found;
        for (const auto& d : r.differences) found[d.object] = d.field;
        CHECK(found["idempotency key job:key-5"] == "id");
        CHECK(found["agent ghost"] == "row");
        // no snapshot yet: a missing run row may be one a running hub has not written
        CHECK(r.lagging == 1);
        CHECK(r.difference_count == 2);
    }
    SECTION("an event the state machine refuses") {
        db.exec("INSERT INTO events(stream, version, type, data, time) VALUES('job-" + job_id(1) +
                "', 99, 'job.started', x'81a7617474656d707401', 5)");  // {"attempt": 1} on a finished job
        auto r = engine::replay::verify_store(dir / "orbitmesh.db", opts);
        REQUIRE(r.difference_count >= 2);
        // inserted by hand, it has no hash: the chain names it first, then the fold refuses it
        CHECK(r.differences[0].field == "hash");
        CHECK(r.differences[0].stored == "none");
        const auto fold = std::find_if(r.differences.begin(), r.differences.end(), [](const auto& d) { return d.field == "fold"; });
        REQUIRE(fold != r.differences.end());
        CHECK_THAT(fold->rebuilt, Catch::Contains("not allowed in state succeeded"));
    }
}

TEST_CASE("replay verify: rows behind their events are lag after the snapshot, differences before it") {
    temp_dir dir;
    log_writer w(dir);
    write_history(w);
    w.snapshot();  // every row exact at this seq
    w.job(job_id(4), core::job_event::assigned, {{"attempt", 2}, {"agent_id", "a2"}, {"agent_name", "agent a2"}});
    w.commit(false);  // an event after the snapshot whose row the hub has not written yet
    engine::replay::verify_options opts;
    opts.min_range = 50;
    auto r = engine::replay::verify_store(dir / "orbitmesh.db", opts);
    CHECK(r.ok());
    CHECK(r.snapshot_seq.has_value());
    CHECK(r.lagging == 1);

    SQLite::Database db(dir / "orbitmesh.db", SQLite::OPEN_READWRITE);
    db.exec("DELETE FROM jobs WHERE id = '" + job_id(2) + "'");  // its events are all before the snapshot
    auto tampered = engine::replay::verify_store(dir / "orbitmesh.db", opts);
    REQUIRE(tampered.difference_count == 1);
    CHECK(tampered.differences[0].object == "job " + job_id(2));
    CHECK(tampered.differences[0].field == "row");
    CHECK(tampered.differences[0].stored == "missing");
}

TEST_CASE("replay: events deferred to the merge fold on one thread per partition, as in one pass") {
    temp_dir dir;
    {
        // Every job begins in the first range and ends in later ones (a burst of submits, as a
        // busy hub writes it): nearly every later event is deferred to the merge.
        log_writer w(dir);
        w.agent("a1", core::agent_event::connected);
        for (int i = 0; i < 300; ++i) w.job(job_id(i), core::job_event::submitted, spec(i));
        for (int i = 0; i < 300; ++i) w.job(job_id(i), core::job_event::assigned, {{"attempt", 1}, {"agent_id", "a1"}, {"agent_name", "agent a1"}});
        for (int i = 0; i < 300; ++i) w.job(job_id(i), core::job_event::started, {{"attempt", 1}});
        for (int i = 0; i < 300; ++i)
            w.job(job_id(i), core::job_event::finished, {{"attempt", 1}, {"state", "succeeded"}, {"exit_code", 0}, {"output", i}, {"error", ""}});
        w.commit();
    }
    {
        // Refused events in the deferred part: on jobs the first range has (folded by the
        // partitions' threads) and on a job none has seen begin (folded after them, in order).
        SQLite::Database db(dir / "orbitmesh.db", SQLite::OPEN_READWRITE);
        for (int i : {3, 250, 7, 1, 299, 42})
            db.exec("INSERT INTO events(stream, version, type, data, time) VALUES('job-" + job_id(i) +
                    "', 99, 'job.started', x'81a7617474656d707401', 5)");
        db.exec("INSERT INTO events(stream, version, type, data, time) VALUES('job-" + job_id(9999) +
                "', 2, 'job.started', x'81a7617474656d707401', 5)");
        db.exec("INSERT INTO events(stream, version, type, data, time) VALUES('job-" + job_id(8) +
                "', 98, 'job.started', x'81a7617474656d707401', 5)");
    }
    std::set<std::size_t> parts;
    for (int i = 0; i < 300; ++i) parts.insert(engine::replay::log_state::partition_of(job_id(i), 2));
    CHECK(parts.size() == 2);  // the jobs spread over both partitions

    auto refusals = [](const engine::replay::log_state& s) {
        std::vector<std::string> out;
        for (const auto& r : s.refused) out.push_back(std::to_string(r.seq) + " " + r.stream + " " + r.reason);
        return out;
    };
    engine::replay::fold_options one;
    one.threads = 1;
    const auto whole = engine::replay::fold_log(dir / "orbitmesh.db", one);
    REQUIRE(whole.refused_count == 8);
    for (int threads : {2, 3}) {
        for (std::int64_t range : {100, 400}) {
            engine::replay::fold_options split;
            split.threads = threads;
            split.min_range = range;
            INFO(threads << " threads, ranges of " << range << " events");
            const auto s = engine::replay::fold_log(dir / "orbitmesh.db", split);
            CHECK(fingerprint(s) == fingerprint(whole));
            CHECK(refusals(s) == refusals(whole));
            CHECK(s.first_seq == whole.first_seq);
            CHECK(s.last_seq == whole.last_seq);
            CHECK(s.kinds().at(engine::replay::stream_kind::job).events == whole.kinds().at(engine::replay::stream_kind::job).events);
        }
    }
}
