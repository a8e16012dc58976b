// The whole agent (run_agent) against a small fake hub built on transport::server.
#include <signal.h>

#include <catch2/catch.hpp>
#include <condition_variable>
#include <spawn.h>
#include <sys/wait.h>
#include <future>
#include <mutex>
#include <thread>

#include "agent_test_support.hpp"
#include "engine/agent/agent_runtime.hpp"
#include "engine/agent/job_records.hpp"
#include "engine/agent/proc_scan.hpp"
#include "store/outbox.hpp"
#include "transport/server.hpp"

using namespace agent_test;
namespace transport = orbitmesh::transport;

namespace {

/// A hub that welcomes every agent and records what it receives. Runs its own io thread.
class fake_hub {
public:
    explicit fake_hub(std::uint16_t port = 0) {
        transport::server_options so;
        so.port = port;
        transport::mesh_handler mh;
        mh.on_open = [](const std::shared_ptr<transport::mesh_peer>&) {};
        mh.on_message = [this](const std::shared_ptr<transport::mesh_peer>& p, json m) {
            received(p, std::move(m));
        };
        mh.on_close = [](const std::shared_ptr<transport::mesh_peer>&, const std::string&) {};
        server_ = std::make_unique<transport::server>(
            io_, so,
            [](transport::http_request, transport::http_reply r) {
                r(transport::http_response{404, "application/json", "{}", {}});
            },
            mh);
        server_->start();
        thread_ = std::thread([this] { io_.run(); });
    }
    ~fake_hub() { stop(); }

    void stop() {
        if (!thread_.joinable()) return;
        server_->stop();
        guard_.reset();
        io_.stop();
        thread_.join();
    }
    std::uint16_t port() const { return server_->port(); }
    /// Called on the hub's thread with each hello, before the welcome goes out.
    std::function<void(const json&)> on_hello;

    void send(json m) {
        std::lock_guard lock(mu_);
        if (peer_) peer_->send(std::move(m));
    }
    /// Waits (bounded) for a message matching `pred` and returns it.
    std::optional<json> wait_for(const std::function<bool(const json&)>& pred,
                                 std::chrono::milliseconds limit = 10s) {
        std::unique_lock lock(mu_);
        std::optional<json> found;
        cv_.wait_for(lock, limit, [&] {
            for (const auto& m : messages_)
                if (pred(m)) return found = m, true;
            return false;
        });
        return found;
    }
    static std::function<bool(const json&)> of(const std::string& t, const std::string& job_id = "") {
        return [t, job_id](const json& m) {
            return m["t"] == t && (job_id.empty() || m.value("job_id", "") == job_id);
        };
    }

private:
    void received(const std::shared_ptr<transport::mesh_peer>& p, json m) {
        if (m["t"] == "hello" && on_hello) on_hello(m);
        if (m["t"] == "hello")
            p->send({{"t", "welcome"}, {"session", "s1"}, {"heartbeat_ms", 200}, {"server_time", 0}});
        std::lock_guard lock(mu_);
        peer_ = p;
        messages_.push_back(std::move(m));
        cv_.notify_all();
    }

    net::io_context io_;
    net::executor_work_guard<net::io_context::executor_type> guard_ = net::make_work_guard(io_);
    std::unique_ptr<transport::server> server_;
    std::thread thread_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::vector<json> messages_;
    std::shared_ptr<transport::mesh_peer> peer_;
};

orbitmesh::engine::agent_options options_for(std::uint16_t port, const fs::path& data_dir) {
    orbitmesh::engine::agent_options o;
    o.server.host = "127.0.0.1";
    o.server.port = port;
    o.name = "test-agent";
    o.data_dir = data_dir;
    o.concurrency = 2;
    o.reconnect_min_ms = 50;
    o.reconnect_max_ms = 200;
    o.version = "test";
    return o;
}

/// run_agent on its own thread; stopped with SIGTERM as an operator would.
struct agent_thread {
    std::future<int> exit;
    explicit agent_thread(orbitmesh::engine::agent_options o)
        : exit(std::async(std::launch::async, [o] { return orbitmesh::engine::run_agent(o); })) {}
    /// SIGTERM, then the exit code (or -1 when it does not stop within `limit`; a second signal
    /// then makes sure it ends before the test returns).
    int stop(std::chrono::milliseconds limit = 10s) {
        ::kill(::getpid(), SIGTERM);
        if (exit.wait_for(limit) == std::future_status::ready) return exit.get();
        ::kill(::getpid(), SIGTERM);
        return -1;
    }
};

}  // namespace

TEST_CASE(
    "agent runtime: registers, runs a job, and resends an unacknowledged result after the hub restarts") {
    temp_dir dir;
    auto hub = std::make_unique<fake_hub>();
    auto port = hub->port();
    agent_thread agent(options_for(port, dir.path / "agent"));

    auto hello = hub->wait_for(fake_hub::of("hello"));
    REQUIRE(hello);
    CHECK((*hello)["name"] == "test-agent");
    CHECK((*hello)["concurrency"] == 2);
    CHECK((*hello)["running"] == json::array());
    auto handlers = (*hello)["handlers"].get<std::vector<std::string>>();
    CHECK(std::count(handlers.begin(), handlers.end(), "echo") == 1);
    REQUIRE(hub->wait_for(fake_hub::of("heartbeat")));

    hub->send({{"t", "assign"},
               {"job_id", "j1"},
               {"attempt", 1},
               {"idempotency_key", ""},
               {"command", "echo"},
               {"payload", "ping"},
               {"mode", "request_response"},
               {"timeout_ms", 0},
               {"trace", ""}});
    REQUIRE(hub->wait_for(fake_hub::of("ack", "j1")));
    auto result = hub->wait_for(fake_hub::of("result", "j1"));
    REQUIRE(result);
    CHECK((*result)["output"] == "ping");

    // No result_ack: the result must survive the hub going away and come back on its own.
    hub.reset();
    hub = std::make_unique<fake_hub>(port);
    auto again = hub->wait_for(fake_hub::of("hello"));
    REQUIRE(again);
    CHECK((*again)["agent_id"] == (*hello)["agent_id"]);
    CHECK((*again)["running"] == json::array({{{"job_id", "j1"}, {"attempt", 1}}}));
    auto resent = hub->wait_for(fake_hub::of("result", "j1"));
    REQUIRE(resent);
    CHECK(*resent == *result);
    hub->send({{"t", "result_ack"}, {"job_id", "j1"}, {"attempt", 1}});
    hub->send({{"t", "invoke"}, {"call_id", 1}, {"method", "ping"}});
    REQUIRE(hub->wait_for(fake_hub::of("reply")));  // the ack before it has been handled too

    CHECK(agent.stop() == 0);
    auto box = orbitmesh::store::outbox::open(dir.path / "agent" / "outbox.db");
    CHECK(box->pending().empty());
}

TEST_CASE("agent runtime: SIGTERM stops running jobs (SIGTERM, SIGKILL after the grace) and refuses new ones") {
    temp_dir dir;
    fake_hub hub;
    auto o = options_for(hub.port(), dir.path / "agent");
    o.stop_grace_ms = 500;
    agent_thread agent(o);
    REQUIRE(hub.wait_for(fake_hub::of("hello")));

    auto trace = dir.path / "trace";
    auto script = "trap 'echo term >> " + trace.string() + "' TERM; echo $$ >> " + trace.string() +
                  "; while :; do sleep 0.05; done";
    hub.send({{"t", "assign"}, {"job_id", "slow"}, {"attempt", 1}, {"command", "shell"}, {"payload", script}, {"timeout_ms", 0}});
    REQUIRE(hub.wait_for(fake_hub::of("ack", "slow")));
    auto lines = [&] {
        std::ifstream in(trace);
        std::vector<std::string> out;
        for (std::string l; std::getline(in, l);) out.push_back(l);
        return out;
    };
    auto deadline = steady::now() + 5s;
    while (lines().empty() && steady::now() < deadline) std::this_thread::sleep_for(10ms);
    REQUIRE(lines().size() == 1);
    int shell = std::stoi(lines().front());

    auto termed = now_ms();
    ::kill(::getpid(), SIGTERM);
    std::this_thread::sleep_for(150ms);
    hub.send({{"t", "assign"}, {"job_id", "late"}, {"attempt", 1}, {"command", "echo"}, {"payload", 1}});
    auto nack = hub.wait_for(fake_hub::of("nack", "late"));
    REQUIRE(nack);
    CHECK((*nack)["reason"] == "draining");
    CHECK(process_alive(shell));  // it traps SIGTERM: only the SIGKILL after the grace ends it

    REQUIRE(agent.exit.wait_for(10s) == std::future_status::ready);
    CHECK(agent.exit.get() == 0);
    CHECK(now_ms() - termed >= 450);
    CHECK_FALSE(process_alive(shell));
    CHECK(lines().size() == 2);
    CHECK(lines().back() == "term");
    // Its result is dropped: the hub runs it again elsewhere once the agent is gone.
    CHECK_FALSE(hub.wait_for(fake_hub::of("result", "slow"), 100ms));
}

TEST_CASE("agent runtime: what an earlier run left is killed before hello, which does not list it") {
    temp_dir dir;
    auto data_dir = dir.path / "agent";
    orbitmesh::engine::agent::job_records records(data_dir / "running");
    std::string path = "/bin/sleep", arg = "30", id = "ORBITMESH_JOB_ID=old-job", attempt = "ORBITMESH_ATTEMPT=1";
    char* argv[] = {path.data(), arg.data(), nullptr};
    char* envp[] = {id.data(), attempt.data(), nullptr};
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
    pid_t leftover = -1;
    REQUIRE(posix_spawn(&leftover, path.c_str(), nullptr, &attr, argv, envp) == 0);
    posix_spawnattr_destroy(&attr);
    auto start = orbitmesh::engine::agent::read_proc(leftover)->start_time;
    REQUIRE(records
                .write(records.file_for("old-job", 1),
                       {"old-job", 1, orbitmesh::engine::agent::current_boot_id(), leftover, start, ""})
                .empty());

    fake_hub hub;
    std::atomic<int> alive_at_hello{-1};
    hub.on_hello = [&](const json&) { alive_at_hello = process_alive(leftover) ? 1 : 0; };
    agent_thread agent(options_for(hub.port(), data_dir));
    auto hello = hub.wait_for(fake_hub::of("hello"));
    REQUIRE(hello);
    CHECK(alive_at_hello == 0);
    CHECK((*hello)["running"] == json::array());
    CHECK(records.load_all().empty());
    CHECK(agent.stop() == 0);
    ::kill(leftover, SIGKILL);
    ::waitpid(leftover, nullptr, 0);
}
