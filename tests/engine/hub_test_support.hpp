#pragma once
// Fakes at the hub's own seams: an event_store whose commits complete when the test says, a
// recording mesh_peer, and deadlines fired as the test moves a manual clock. The hub itself is
// the real one; its strand runs on an io_context the test polls on its own thread.
#include <catch2/catch.hpp>

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/agent_messages.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/job_events.hpp"
#include "engine/hub/hub.hpp"

namespace hub_test {

using namespace orbitmesh;
using core::json;
namespace p = core::protocol;

/// An event_store that holds every batch until complete_*() or fail_next(): "nothing is sent
/// before its commit completes" becomes something a test can look at between the two.
class fake_store final : public store::event_store {
public:
    struct pending {
        store::write_batch batch;
        store::commit_callback done;
    };

    void submit(store::write_batch batch, store::commit_callback done) override {
        queue_.push_back({std::move(batch), std::move(done)});
    }
    void flush() override {}
    void close() override {}
    void for_each_event(const std::function<void(const core::event&)>& fn, std::int64_t after, const std::string&) override {
        for (const auto& e : preloaded)
            if (e.seq > after) fn(e);
    }
    void for_each_event_in(std::string_view prefix, const std::function<void(const core::event&)>& fn) override {
        for (const auto& e : preloaded)
            if (e.stream.starts_with(prefix)) fn(e);
    }
    std::vector<core::job_record> load_jobs() override { return {}; }
    std::vector<core::agent_record> load_agents() override { return {}; }
    // No projection rows and no snapshot: these hubs start from `preloaded` alone.
    std::vector<std::pair<std::string, std::int64_t>> load_job_versions() override { return {}; }
    std::optional<core::job_record> load_job(const std::string&) override { return std::nullopt; }
    std::vector<core::job_record> load_jobs_page(std::size_t, const std::string&, const std::string&) override { return {}; }
    std::optional<core::json> load_run(const std::string&) override { return std::nullopt; }
    std::vector<core::json> load_runs_page(std::size_t, const std::string&, const std::string&) override { return {}; }
    std::map<std::string, std::int64_t> count_runs() override { return {}; }
    std::map<std::pair<std::string, std::string>, std::int64_t> count_runs_by_workflow() override { return {}; }
    std::optional<store::snapshot_blob> load_snapshot() override { return std::nullopt; }
    std::vector<store::log_line> load_logs(const std::string& job_id, std::int64_t after, std::size_t limit) override {
        if (fail_reads) throw core::error(core::error_kind::storage, "store test.db: reading job_logs failed: disk I/O error");
        std::vector<store::log_line> out;
        for (const auto& l : committed_logs)
            if (l.job_id == job_id && l.seq > after && out.size() < limit) out.push_back(l);
        return out;
    }
    std::int64_t last_seq() override { return seq_; }
    store::store_stats stats() const override { return {}; }

    /// Batches submitted and not yet completed.
    std::size_t waiting() const { return queue_.size(); }
    /// Commits the oldest waiting batch: its events get seqs and its callback runs (it posts to
    /// the hub strand; poll the io_context to see what the hub does next).
    void complete_next() {
        auto p = std::move(queue_.front());
        queue_.pop_front();
        for (auto& e : p.batch.events) {
            e.seq = ++seq_;
            if (!e.packed.empty()) e.data = json::from_msgpack(e.packed);
            events.push_back(std::move(e));
        }
        for (auto& l : p.batch.logs) committed_logs.push_back(std::move(l));
        if (p.done) p.done(nullptr);
    }
    void complete_all() {
        while (!queue_.empty()) complete_next();
    }
    /// Fails the oldest waiting batch the way SQLite would (a full disk).
    void fail_next(const std::string& why = "database or disk is full") {
        auto p = std::move(queue_.front());
        queue_.pop_front();
        if (p.done) p.done(std::make_exception_ptr(core::error(core::error_kind::storage, why)));
    }
    /// Types of the committed events of one stream, in order.
    std::vector<std::string> types(const std::string& stream) const {
        std::vector<std::string> out;
        for (const auto& e : events)
            if (e.stream == stream) out.push_back(e.type);
        return out;
    }
    /// The committed events of one stream, data decoded.
    std::vector<core::event> stream(const std::string& name) const {
        std::vector<core::event> out;
        for (const auto& e : events)
            if (e.stream == name) out.push_back(e);
        return out;
    }

    std::vector<core::event> preloaded;  // what for_each_event replays (recovery)
    std::vector<core::event> events;     // committed, in commit order
    std::vector<store::log_line> committed_logs;
    bool fail_reads = false;

private:
    std::deque<pending> queue_;
    std::int64_t seq_ = 0;
};

/// A mesh_peer that records what the hub sends and how it closes the connection.
class recording_peer final : public transport::mesh_peer {
public:
    explicit recording_peer(std::uint64_t id) : id_(id) {}
    void send(json msg) override {
        if (throw_on_send) throw std::runtime_error("send failed in a test");
        sent.push_back(std::move(msg));
    }
    void close(int code, std::string reason) override {
        if (!closed) closed = std::make_pair(code, std::move(reason));
    }
    std::string remote_address() const override { return "127.0.0.1:" + std::to_string(40000 + id_); }
    std::uint64_t id() const override { return id_; }

    /// Messages sent of one type, in order.
    std::vector<json> of_type(std::string_view t) const {
        std::vector<json> out;
        for (const auto& m : sent)
            if (m.value("t", "") == t) out.push_back(m);
        return out;
    }
    void forget() { sent.clear(); }

    std::vector<json> sent;
    std::optional<std::pair<int, std::string>> closed;
    bool throw_on_send = false;

private:
    std::uint64_t id_;
};

/// Deadlines that fire only as the test moves the clock, in deadline order, each one seeing the
/// clock at its own time (so a deadline armed by another inside the window fires too).
class manual_deadlines final : public engine::deadline_queue {
public:
    explicit manual_deadlines(core::manual_clock& clock) : clock_(clock) {}
    void after(std::int64_t delay_ms, std::function<void()> fn) override {
        entries_.emplace(clock_.steady_ms() + std::max<std::int64_t>(0, delay_ms), std::move(fn));
    }
    void clear() override { entries_.clear(); }
    std::size_t size() const override { return entries_.size(); }

    /// Moves the clock `ms` forward, firing what comes due; `between` runs after each one (the
    /// fixture polls the strand there, so the order of events stays the hub's own).
    void advance(std::int64_t ms, const std::function<void()>& between) {
        const std::int64_t end = clock_.steady_ms() + ms;
        for (int n = 0; n < 100'000 && !entries_.empty() && entries_.begin()->first <= end; ++n) {
            clock_.advance(entries_.begin()->first - clock_.steady_ms());
            auto fn = std::move(entries_.begin()->second);
            entries_.erase(entries_.begin());
            fn();
            between();
        }
        clock_.advance(end - clock_.steady_ms());
    }

private:
    core::manual_clock& clock_;
    std::multimap<std::int64_t, std::function<void()>> entries_;
};

/// Options for tests: heartbeats out of the way unless a test wants them.
inline engine::hub_options test_options() {
    engine::hub_options o;
    o.heartbeat_ms = 3'600'000;
    o.ack_timeout_ms = 10'000;
    o.reassign_after_ms = 10'000;
    o.cancel_grace_ms = 1'000;
    return o;
}

inline p::hello hello_of(const std::string& id, int concurrency = 1, std::vector<p::running_job> running = {},
                         std::map<std::string, std::string> tags = {}) {
    p::hello h;
    h.tags = std::move(tags);
    h.protocol = 1;
    h.agent_id = id;
    h.name = id;
    h.concurrency = concurrency;
    h.version = "test";
    h.handlers = std::vector<std::string>{"echo", "shell"};
    h.running = std::move(running);
    return h;
}

inline core::job_spec echo_spec(const std::string& payload = "hi") {
    core::job_spec s;
    s.command = "echo";
    s.payload = payload;
    return s;
}

/// A hub with fake seams. `settle()` runs the strand and completes commits until both are quiet.
struct hub_fixture {
    explicit hub_fixture(engine::hub_options opts = test_options(), std::vector<core::event> log = {}) {
        store.preloaded = std::move(log);
        auto d = std::make_unique<manual_deadlines>(clock);
        deadlines = d.get();
        hub = std::make_shared<engine::hub>(io, std::move(opts), store, clock, std::move(d));
    }
    ~hub_fixture() {
        hub->shutdown();
        poll();
    }

    /// recover() and the first turn of the strand (what run_hub does before it listens).
    void start() {
        hub->recover();
        settle();
    }
    void poll() {
        io.restart();
        io.poll();
    }
    void settle() {
        for (int round = 0; round < 1000; ++round) {
            poll();
            if (store.waiting() == 0) return;
            store.complete_all();
        }
        FAIL("the hub never settled: commits keep coming");
    }
    /// Runs the strand without completing commits: what the hub does before a commit is done.
    void run_uncommitted() { poll(); }
    void advance(std::int64_t ms) {
        deadlines->advance(ms, [this] { settle(); });
        settle();
    }

    std::shared_ptr<recording_peer> connect(const std::string& agent_id, int concurrency = 1,
                                            std::vector<p::running_job> running = {},
                                            std::map<std::string, std::string> tags = {}) {
        auto peer = std::make_shared<recording_peer>(++peers_);
        hub->on_open(peer);
        poll();
        hub->on_message(peer, hello_of(agent_id, concurrency, std::move(running), std::move(tags)));
        settle();
        return peer;
    }
    void send(const std::shared_ptr<recording_peer>& peer, p::agent_message m) {
        hub->on_message(peer, std::move(m));
    }
    void disconnect(const std::shared_ptr<recording_peer>& peer) {
        hub->on_close(peer, "closed by agent with 1000");
        settle();
    }
    /// Submits and settles; the job's id.
    std::string submit(core::job_spec spec = echo_spec()) {
        std::string id;
        hub->submit({std::move(spec)}, [&](engine::hub::outcome<json> o, bool) {
            REQUIRE_FALSE(o.error);
            id = o.value.at(0).at("id").get<std::string>();
        });
        settle();
        REQUIRE_FALSE(id.empty());
        return id;
    }
    const core::job_record& job(const std::string& id) {
        const auto* j = hub->jobs().job(id);
        REQUIRE(j != nullptr);
        return *j;
    }
    /// The agent's record as GET /api/v1/agents/ID shows it.
    json agent(const std::string& id) {
        json out;
        hub->get_agent(id, [&](engine::hub::outcome<json> o) { out = o.error ? json() : o.value; });
        settle();
        return out;
    }
    /// Acks and succeeds the job's current attempt from `peer`.
    void run_ok(const std::shared_ptr<recording_peer>& peer, const std::string& id, int attempt = 1) {
        send(peer, p::ack{id, attempt});
        send(peer, p::result{id, attempt, "succeeded", 0, "done", ""});
        settle();
    }

    boost::asio::io_context io;
    core::manual_clock clock;
    fake_store store;
    manual_deadlines* deadlines = nullptr;  // owned by the hub
    std::shared_ptr<engine::hub> hub;

private:
    std::uint64_t peers_ = 0;
};

/// Assignments a peer received, as job ids.
inline std::vector<std::string> assigned_ids(const recording_peer& peer) {
    std::vector<std::string> out;
    for (const auto& m : peer.of_type("assign")) out.push_back(m.at("job_id").get<std::string>());
    return out;
}

}  // namespace hub_test
