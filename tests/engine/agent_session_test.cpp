// The agent's protocol side: assign/ack/nack, outbox-first results, dedup, cancel, timeout, invoke.
#include <catch2/catch.hpp>
#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "agent_test_support.hpp"
#include "engine/agent/agent_session.hpp"
#include "engine/agent/handler_registry.hpp"

using namespace agent_test;
using orbitmesh::store::outbox;

namespace {

/// An in-memory outbox (a fake at our own interface); the test keeps a handle on its contents.
struct outbox_state {
    std::mutex mu;
    std::map<std::pair<std::string, int>, outbox::entry> entries;
    std::atomic<int> commits{0};
    std::atomic<bool> slow_disk{false};  // commits wait while this is set
    std::size_t size() {
        std::lock_guard lock(mu);
        return entries.size();
    }
};

class memory_outbox final : public outbox {
public:
    explicit memory_outbox(std::shared_ptr<outbox_state> s) : s_(std::move(s)) {}
    void put(const entry& e) override {
        std::lock_guard lock(s_->mu);
        s_->entries[{e.job_id, e.attempt}] = e;
    }
    std::optional<entry> get(const std::string& job_id, int attempt) override {
        std::lock_guard lock(s_->mu);
        auto it = s_->entries.find({job_id, attempt});
        return it == s_->entries.end() ? std::nullopt : std::optional<entry>(it->second);
    }
    void remove(const std::string& job_id, int attempt) override {
        std::lock_guard lock(s_->mu);
        s_->entries.erase({job_id, attempt});
    }
    std::vector<entry> pending() override {
        std::lock_guard lock(s_->mu);
        std::vector<entry> out;
        for (auto& [k, e] : s_->entries) out.push_back(e);
        return out;
    }
    // Every call is already "durable" in memory, so a group needs no work but counting.
    void begin_group() override {}
    void commit_group() override {
        while (s_->slow_disk) std::this_thread::sleep_for(1ms);
        ++s_->commits;
    }
    void rollback_group() noexcept override {}

private:
    std::shared_ptr<outbox_state> s_;
};

struct session_fixture {
    io_fixture fx;
    temp_dir dir;
    std::shared_ptr<outbox_state> box = std::make_shared<outbox_state>();
    handler_registry reg = make_registry({false, {}, {dir.path}, dir.path, nullptr, nullptr, {}});
    outbox_writer writer;
    std::vector<json> sent;
    agent_session session;

    explicit session_fixture(int concurrency = 4,
                             std::chrono::milliseconds remove_delay = outbox_writer::default_remove_delay)
        : writer(fx.io, std::make_unique<memory_outbox>(box), remove_delay),
          session(fx.io, fx.pool, reg, writer,
                  agent_profile{
                      "agent-1", "test-agent", "0.0.1", {{"zone", "a"}}, {"gpu"}, concurrency, dir.path},
                  [this](json m) { sent.push_back(std::move(m)); }) {}

    void assign(const std::string& job_id, int attempt, const std::string& command, json payload,
                std::int64_t timeout_ms = 0) {
        session.on_message({{"t", "assign"},
                            {"job_id", job_id},
                            {"attempt", attempt},
                            {"idempotency_key", "k"},
                            {"command", command},
                            {"payload", std::move(payload)},
                            {"mode", "request_response"},
                            {"timeout_ms", timeout_ms},
                            {"trace", ""}});
    }
    std::vector<json> of_type(const std::string& t) const {
        std::vector<json> out;
        for (const auto& m : sent)
            if (m["t"] == t) out.push_back(m);
        return out;
    }
    std::optional<json> result_for(const std::string& job_id, int attempt) const {
        for (const auto& m : of_type("result"))
            if (m["job_id"] == job_id && m["attempt"] == attempt) return m;
        return std::nullopt;
    }
    bool wait_result(const std::string& job_id, int attempt = 1, std::chrono::milliseconds limit = 10s) {
        return fx.run_until([&] { return result_for(job_id, attempt).has_value(); }, limit);
    }
};

}  // namespace

TEST_CASE("agent session: an assigned job is acked, stored in the outbox, sent, and dropped on result_ack") {
    session_fixture s;
    s.assign("j1", 1, "echo", "hi");
    // echo finishes inside start(): its ack waits for the stored result and goes out just before it
    CHECK(s.sent.empty());
    REQUIRE(s.wait_result("j1"));
    REQUIRE(s.sent.size() == 2);
    CHECK(s.sent[0] == json{{"t", "ack"}, {"job_id", "j1"}, {"attempt", 1}});
    CHECK(s.sent[1] == json{{"t", "result"},
                            {"job_id", "j1"},
                            {"attempt", 1},
                            {"status", "succeeded"},
                            {"exit_code", 0},
                            {"output", "hi"},
                            {"error", ""}});
    CHECK(s.box->size() == 1);  // stored before it was sent
    CHECK_FALSE(s.session.idle());

    s.session.on_message({{"t", "result_ack"}, {"job_id", "j1"}, {"attempt", 1}, {"rejected", true}});
    CHECK(s.fx.run_until([&] { return s.box->size() == 0; }, 2s));
    CHECK(s.session.idle());
}

TEST_CASE("agent session: a job still running is acked at once") {
    session_fixture s;
    s.assign("s1", 1, "sleep", 30);
    REQUIRE(s.sent.size() == 1);
    CHECK(s.sent.front() == json{{"t", "ack"}, {"job_id", "s1"}, {"attempt", 1}});
    s.session.on_message({{"t", "cancel"}, {"job_id", "s1"}, {"reason", "test over"}});
    REQUIRE(s.wait_result("s1"));
    CHECK(s.of_type("ack").size() == 1);
}

TEST_CASE("agent session: a held ack goes out alone when the outbox is slow") {
    session_fixture s;
    s.box->slow_disk = true;
    s.assign("j1", 1, "echo", "hi");
    auto assigned = now_ms();
    REQUIRE(s.fx.run_until([&] { return !s.of_type("ack").empty(); }, 5s));
    CHECK(now_ms() - assigned >= agent_session::max_ack_hold_ms - 20);
    CHECK(s.sent.size() == 1);  // no result before the outbox has it
    s.box->slow_disk = false;
    REQUIRE(s.wait_result("j1"));
    CHECK(s.of_type("ack").size() == 1);
    CHECK(s.sent.back()["t"] == "result");
}

TEST_CASE("agent session: results that finish together share one outbox commit, and so do their removals") {
    session_fixture s(8, 10s);  // removals wait for puts to ride with for as long as this test runs
    for (int i = 0; i < 5; ++i) s.assign("b" + std::to_string(i), 1, "echo", i);
    REQUIRE(s.fx.run_until([&] { return s.of_type("result").size() == 5; }));
    CHECK(s.box->commits == 1);
    CHECK(s.box->size() == 5);
    for (int i = 0; i < 5; ++i) s.session.on_message({{"t", "result_ack"}, {"job_id", "b" + std::to_string(i)}, {"attempt", 1}});
    s.fx.run_for(100ms);
    CHECK(s.box->commits == 1);  // removals alone do not cost a commit yet
    CHECK(s.box->size() == 5);

    s.assign("next", 1, "echo", "x");
    REQUIRE(s.wait_result("next"));
    CHECK(s.box->commits == 2);  // the next result carried the removals
    CHECK(s.box->size() == 1);
}

TEST_CASE("agent session: removals with no result to ride with are committed after a short wait") {
    session_fixture s(4, 50ms);
    s.assign("r1", 1, "echo", 1);
    REQUIRE(s.wait_result("r1"));
    s.session.on_message({{"t", "result_ack"}, {"job_id", "r1"}, {"attempt", 1}});
    CHECK(s.fx.run_until([&] { return s.box->size() == 0; }, 5s));
    CHECK(s.box->commits == 2);
    CHECK(s.session.idle());
}

TEST_CASE(
    "agent session: a re-sent assign of a finished attempt is answered from the outbox, not run again") {
    session_fixture s;
    auto counter = s.dir.path / "runs";
    auto script = "echo run >> '" + counter.string() + "'";
    s.assign("j2", 1, "shell", script);
    REQUIRE(s.wait_result("j2"));
    auto first = *s.result_for("j2", 1);
    s.sent.clear();

    s.assign("j2", 1, "shell", script);
    CHECK(s.of_type("ack").size() == 1);
    REQUIRE(s.of_type("result").size() == 1);
    CHECK(s.of_type("result").front() == first);
    s.fx.run_for(200ms);
    CHECK(s.of_type("result").size() == 1);

    s.assign("j2", 2, "shell", script);  // a retry is a new attempt and does run
    REQUIRE(s.wait_result("j2", 2));
    std::ifstream in(counter);
    std::string all((std::istreambuf_iterator<char>(in)), {});
    CHECK(all == "run\nrun\n");
}

TEST_CASE("agent session: results left from an earlier run are announced in hello and resent after welcome") {
    session_fixture s;
    json old{{"t", "result"},
             {"job_id", "old"},
             {"attempt", 3},
             {"status", "failed"},
             {"exit_code", 1},
             {"output", ""},
             {"error", "shell: exit status 1"}};
    s.box->entries[{"old", 3}] = outbox::entry{"old", 3, old};
    s.session.load_outbox();

    auto hello = s.session.hello();
    CHECK(hello["t"] == "hello");
    CHECK(hello["protocol"] == 1);
    CHECK(hello["agent_id"] == "agent-1");
    CHECK(hello["tags"] == json{{"zone", "a"}});
    CHECK(hello["concurrency"] == 4);
    CHECK(hello["running"] == json::array({{{"job_id", "old"}, {"attempt", 3}}}));
    auto handlers = hello["handlers"].get<std::vector<std::string>>();
    CHECK(std::count(handlers.begin(), handlers.end(), "shell") == 1);

    s.session.on_welcome();
    CHECK(s.result_for("old", 3) == old);
}

TEST_CASE("agent session: nacks say busy, unknown command or draining") {
    session_fixture s(1);
    s.assign("long", 1, "sleep", 30);
    s.assign("long", 1, "sleep", 30);  // already running: acked again, not started twice
    CHECK(s.of_type("ack").size() == 2);
    CHECK(s.session.running_count() == 1);

    s.assign("other", 1, "echo", 1);
    s.assign("odd", 1, "frobnicate", 1);
    auto nacks = s.of_type("nack");
    REQUIRE(nacks.size() == 2);
    CHECK(nacks[0] == json{{"t", "nack"}, {"job_id", "other"}, {"attempt", 1}, {"reason", "busy"}});
    CHECK(nacks[1]["reason"] == "unknown command: frobnicate");

    s.session.on_message({{"t", "cancel"}, {"job_id", "long"}, {"reason", "test over"}});
    REQUIRE(s.wait_result("long"));
    s.session.begin_drain();
    s.assign("late", 1, "echo", 1);
    CHECK(s.of_type("nack").back()["reason"] == "draining");
}

TEST_CASE("agent session: cancel kills the job's process group and reports cancelled") {
    session_fixture s;
    s.assign("c1", 1, "shell", "sleep 600 & echo $!; wait");
    REQUIRE(s.fx.run_until([&] { return !s.of_type("output").empty(); }));
    auto out = s.of_type("output").front();
    CHECK(out["seq"] == 1);
    CHECK(out["stream"] == "stdout");
    int background = std::stoi(out["data"].get<std::string>());

    auto asked = now_ms();
    s.session.on_message({{"t", "cancel"}, {"job_id", "c1"}, {"reason", "operator"}, {"grace_ms", 3000}});
    REQUIRE(s.wait_result("c1", 1, 5s));
    CHECK(now_ms() - asked < 3000);
    auto r = *s.result_for("c1", 1);
    CHECK(r["status"] == "cancelled");
    CHECK(r["error"] == "cancelled: operator");
    CHECK(s.fx.run_until([&] { return !process_alive(background); }, 2s));
}

TEST_CASE("agent session: a job past its timeout is stopped and reported timed_out") {
    session_fixture s;
    s.assign("t1", 1, "shell", "sleep 30", 300);
    auto started = now_ms();
    REQUIRE(s.wait_result("t1", 1, 5s));
    CHECK(now_ms() - started < 3000);
    auto r = *s.result_for("t1", 1);
    CHECK(r["status"] == "timed_out");
    CHECK(r["error"] == "timed out after 300ms");

    s.assign("t2", 1, "sleep", 30, 200);
    REQUIRE(s.wait_result("t2", 1, 2s));
    CHECK(s.result_for("t2", 1).value()["status"] == "timed_out");
}

TEST_CASE("agent session: output is numbered per attempt on both streams") {
    session_fixture s;
    s.assign("o1", 1, "shell", "echo a; echo b >&2; echo c");
    REQUIRE(s.wait_result("o1"));
    std::vector<int> seqs;
    std::multiset<std::string> data;
    for (const auto& m : s.of_type("output")) {
        seqs.push_back(m["seq"].get<int>());
        data.insert(m["stream"].get<std::string>() + ":" + m["data"].get<std::string>());
    }
    CHECK(seqs == std::vector<int>{1, 2, 3});
    CHECK(data == std::multiset<std::string>{"stdout:a", "stderr:b", "stdout:c"});
}

TEST_CASE("agent session: invoke answers ping, system.info and unknown methods") {
    session_fixture s;
    s.session.on_message({{"t", "invoke"}, {"call_id", 7}, {"method", "ping"}, {"args", nullptr}});
    s.session.on_message({{"t", "invoke"}, {"call_id", "c2"}, {"method", "system:info"}});
    s.session.on_message({{"t", "invoke"}, {"call_id", 9}, {"method", "reboot"}});
    s.session.on_message({{"t", "twin_desired"}, {"version", 1}, {"desired", json::object()}});  // ignored
    auto replies = s.of_type("reply");
    REQUIRE(replies.size() == 3);
    CHECK(replies[0] == json{{"t", "reply"}, {"call_id", 7}, {"value", "pong"}});
    CHECK(replies[1]["value"].contains("cores"));
    CHECK(replies[2]["error"] == "unknown method: reboot");

    auto hb = s.session.heartbeat();
    CHECK(hb["t"] == "heartbeat");
    CHECK(hb["load"]["running"] == 0);
    CHECK(hb["load"].contains("cpu"));
    CHECK(hb["load"].contains("mem"));
}

TEST_CASE("agent session: assign.secrets reach the job's environment and are masked in all it reports") {
    session_fixture s;
    const std::string value = "pw-0123456789abcdef";
    s.session.on_message({{"t", "assign"},
                          {"job_id", "sec1"},
                          {"attempt", 1},
                          {"idempotency_key", "k"},
                          {"command", "shell"},
                          {"payload", "echo \"out $DB_PASSWORD\"; echo \"err $DB_PASSWORD\" >&2; "
                                      "[ \"$DB_PASSWORD\" = '" + value + "' ] && echo matched; "
                                      "printf %s \"$DB_PASSWORD\"; exit 4"},
                          {"mode", "request_response"},
                          {"timeout_ms", 0},
                          {"trace", ""},
                          {"secrets", {{"DB_PASSWORD", value}}}});
    REQUIRE(s.wait_result("sec1"));
    std::vector<std::string> lines;
    for (const auto& m : s.of_type("output")) lines.push_back(m["data"]);
    std::sort(lines.begin(), lines.end());  // stdout and stderr interleave as they like
    CHECK(lines == std::vector<std::string>{"***", "err ***", "matched", "out ***"});
    auto result = s.result_for("sec1", 1);
    REQUIRE(result);
    CHECK((*result)["output"] == "out ***\nmatched\n***");
    CHECK((*result)["error"] == "shell: exit status 4: err ***");
    for (const auto& m : s.sent) CHECK(m.dump().find(value) == std::string::npos);
    std::lock_guard lock(s.box->mu);  // the outbox holds the masked result only
    for (const auto& [k, e] : s.box->entries) CHECK(e.result.dump().find(value) == std::string::npos);
}

/// What the session sent apart from its twin report (sent after every welcome, agent_twin.cpp).
std::vector<json> without_twin(const std::vector<json>& sent) {
    std::vector<json> out;
    for (const auto& m : sent)
        if (m.value("t", "") != "twin_reported") out.push_back(m);
    return out;
}

TEST_CASE("agent session: output is kept with the result until result_ack and sent again, before it, after a reconnect") {
    session_fixture s;
    s.assign("o1", 1, "shell", "echo one; echo two");
    REQUIRE(s.wait_result("o1"));
    REQUIRE(s.of_type("output").size() == 2);
    {
        std::lock_guard lock(s.box->mu);
        const auto& stored = s.box->entries.at({"o1", 1});
        REQUIRE(stored.outputs.size() == 2);  // durable with the result: a restart keeps them too
        CHECK(stored.outputs[0]["data"] == "one");
    }
    s.sent.clear();
    s.session.on_welcome();  // the hub may have missed any of it while the link was down
    s.sent = without_twin(s.sent);
    REQUIRE(s.sent.size() == 3);
    CHECK(s.sent[0]["t"] == "output");
    CHECK(s.sent[0]["data"] == "one");
    CHECK(s.sent[0]["seq"] == 1);
    CHECK(s.sent[1]["data"] == "two");
    CHECK(s.sent[2]["t"] == "result");
    s.session.on_message({{"t", "result_ack"}, {"job_id", "o1"}, {"attempt", 1}});
    s.sent.clear();
    s.session.on_welcome();
    CHECK(without_twin(s.sent).empty());
}

TEST_CASE("agent session: after a restart the outbox gives back a result's output, resent before it") {
    auto box = std::make_shared<outbox_state>();
    box->entries[{"r1", 2}] = outbox::entry{
        "r1", 2, json{{"t", "result"}, {"job_id", "r1"}, {"attempt", 2}, {"status", "succeeded"}},
        {json{{"t", "output"}, {"job_id", "r1"}, {"attempt", 2}, {"seq", 1}, {"stream", "stdout"}, {"data", "kept"}}}};
    io_fixture fx;
    temp_dir dir;
    auto reg = make_registry({false, {}, {dir.path}, dir.path, nullptr, nullptr, {}});
    outbox_writer writer(fx.io, std::make_unique<memory_outbox>(box));
    std::vector<json> sent;
    agent_session session(fx.io, fx.pool, reg, writer, agent_profile{"agent-1", "a", "0", {}, {}, 1, dir.path},
                          [&sent](json m) { sent.push_back(std::move(m)); });
    session.load_outbox();
    session.on_welcome();
    sent = without_twin(sent);
    REQUIRE(sent.size() == 2);
    CHECK(sent[0]["data"] == "kept");
    CHECK(sent[1]["t"] == "result");
}

TEST_CASE("agent output buffer: bounded at max_lines across the agent, the attempt holding most gives up its oldest") {
    orbitmesh::engine::agent::output_buffer b;
    using ob = orbitmesh::engine::agent::output_buffer;
    for (std::size_t i = 1; i <= ob::max_lines + 50; ++i)
        b.add(json{{"t", "output"}, {"job_id", "big"}, {"attempt", 1}, {"seq", i}, {"data", "x"}});
    b.add(json{{"t", "progress"}, {"job_id", "big"}, {"attempt", 1}, {"percent", 10}});
    b.add(json{{"t", "progress"}, {"job_id", "big"}, {"attempt", 1}, {"percent", 20}});
    CHECK(b.lines() == ob::max_lines);
    auto kept = b.messages("big", 1);
    REQUIRE(kept.size() == ob::max_lines + 1);
    CHECK(kept.front()["seq"] == 51);          // the oldest made room
    CHECK(kept.back()["percent"] == 20);       // progress: only the latest
    b.add(json{{"t", "output"}, {"job_id", "small"}, {"attempt", 1}, {"seq", 1}, {"data", "y"}});
    CHECK(b.messages("small", 1).size() == 1);  // kept: the big one made room again
    CHECK(b.lines() == ob::max_lines);
    CHECK(b.messages("big", 1).front()["seq"] == 52);
    b.drop("big", 1);
    CHECK(b.lines() == 1);
    CHECK(b.messages("big", 1).empty());
}
