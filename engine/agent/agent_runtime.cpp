#include "engine/agent/agent_runtime.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "core/clock.hpp"
#include "core/duration.hpp"
#include "core/error.hpp"
#include "core/exit_code.hpp"
#include "engine/agent/agent_identity.hpp"
#include "engine/agent/agent_log.hpp"
#include "engine/agent/agent_session.hpp"
#include "engine/agent/builtin_handlers.hpp"
#include "engine/agent/child_process.hpp"
#include "engine/agent/data_dir_lock.hpp"
#include "engine/agent/handler_registry.hpp"
#include "engine/agent/hub_connection.hpp"
#include "engine/agent/job_containment.hpp"
#include "engine/agent/sandbox.hpp"
#include "transport/asio.hpp"
#include "engine/agent/system_facts.hpp"
#include "store/outbox.hpp"

namespace orbitmesh::engine {

namespace fs = std::filesystem;
using namespace agent;

namespace {

// After a first SIGINT/SIGTERM, how long results not yet acknowledged may keep the agent once no
// job runs (and how long past the stop grace a process that survived SIGKILL may).
constexpr std::int64_t settle_ms = 2000;
// After abandoning jobs, how long to wait for their processes to be reaped.
constexpr std::int64_t reap_budget_ms = 2000;
constexpr int blocking_threads = 2;

/// Options with every default applied.
agent_options resolved(agent_options o) {
    if (o.name.empty()) o.name = host_name();
    if (o.data_dir.empty()) o.data_dir = fs::path(".orbitmesh") / "agents" / o.name;
    if (o.concurrency <= 0) o.concurrency = core_count();
    if (o.allowed_roots.empty()) o.allowed_roots.push_back(o.data_dir / "files");  // created by run_agent
    if (o.version.empty()) o.version = "unknown";
    return o;
}

/// Attempts an earlier run of this agent was running when it ended: killed now, and absent from
/// hello's `running`, so the hub requeues them at once ("came back without the job").
void report_lost(const std::vector<job_containment::leftover>& lost) {
    for (const auto& l : lost)
        log_event(core::log::level::warn,
                  "job " + l.job_id + " attempt " + std::to_string(l.attempt) +
                      " was running when this agent last stopped: " +
                      (l.killed == 0 ? std::string("none of its processes was left")
                                     : "killed " + std::to_string(l.killed) + " leftover process(es)") +
                      "; reported lost, not running",
                  {{"job_id", l.job_id}, {"attempt", std::to_string(l.attempt)}});
}

agent_profile profile_for(const agent_options& o, std::string agent_id, const handler_registry& reg) {
    agent_profile p{std::move(agent_id), o.name,        o.version, o.tags,
                    o.capabilities,      o.concurrency, o.data_dir};
    for (auto& name : reg.names())
        if (std::find(p.capabilities.begin(), p.capabilities.end(), name) == p.capabilities.end())
            p.capabilities.push_back(name);
    return p;
}

/// The running agent: its parts in construction order, and the shutdown steps.
class agent_process {
public:
    agent_process(const agent_options& o, std::string agent_id, handler_registry& reg,
                  std::unique_ptr<store::outbox> box)
        : blocking_(blocking_threads),
          outbox_(io_, std::move(box)),
          session_(io_, blocking_, reg, outbox_, profile_for(o, std::move(agent_id), reg),
                   [this](const core::json& m) { connection_->send(m); }),
          signals_(io_),
          poll_(io_),
          stop_token_(o.stop_token),
          stop_grace_ms_(o.stop_grace_ms) {
        if (!stop_token_) {  // an in-process agent leaves its host program's signals alone
            signals_.add(SIGINT);
            signals_.add(SIGTERM);
        }
        transport::mesh_client::options mo;
        mo.url = o.server;
        mo.json_format = o.json_format;
        mo.token = o.token;
        mo.tls = o.tls;
        hub_connection::callbacks cb{
            [this] { return session_.hello(); }, [this] { return session_.heartbeat(); },
            [this] { session_.on_welcome(); }, [this](core::json m) { session_.on_message(std::move(m)); },
            [this](const std::string& reason) { rejected(reason); }};
        connection_ = std::make_unique<hub_connection>(
            io_, mo, reconnect_backoff(o.reconnect_min_ms, o.reconnect_max_ms), std::move(cb), o.more_servers);
    }

    int run() {
        session_.load_outbox();
        if (stop_token_) watch_stop_token();
        else wait_for_signal();
        if (::getpid() == 1) reap_orphans_every_second();
        connection_->start();
        io_.run();
        outbox_.close();
        blocking_.join();
        return exit_code_;
    }

private:
    void wait_for_signal() {
        signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
            if (ec) return;
            if (++signals_seen_ == 1)
                begin_drain(sig);
            else
                leave_now();
            wait_for_signal();
        });
    }

    void watch_stop_token() {
        stop_poll_.expires_after(std::chrono::milliseconds(100));
        stop_poll_.async_wait([this](const boost::system::error_code& ec) {
            if (ec) return;
            if (stop_token_->load()) return begin_drain(SIGTERM);
            watch_stop_token();
        });
    }

    /// As PID 1 (in a container) the agent inherits every orphan its jobs leave behind.
    void reap_orphans_every_second() {
        reaper_.expires_after(std::chrono::seconds(1));
        reaper_.async_wait([this](const boost::system::error_code& ec) {
            if (ec) return;
            child_process::reap_orphans();
            reap_orphans_every_second();
        });
    }

    /// Takes no new jobs and stops the running ones: SIGTERM to each job's group now, SIGKILL
    /// after the stop grace; their results are dropped, so the hub runs them again elsewhere.
    /// Then waits (bounded) for results already stored to be acknowledged, and leaves.
    void begin_drain(int sig) {
        const auto n = session_.running_count();
        log_line(std::string("received ") + (sig == SIGINT ? "SIGINT" : "SIGTERM") + ": taking no new jobs" +
                 (n == 0 ? std::string()
                         : "; stopping " + std::to_string(n) + " running job(s) (SIGTERM now, SIGKILL after " +
                               core::format_duration(stop_grace_ms_) + "); the hub runs them again elsewhere") +
                 "; send it again to exit now");
        session_.begin_drain();
        session_.abandon_jobs(stop_grace_ms_);
        const auto started = core::steady_ms();
        const auto deadline = started + stop_grace_ms_ + settle_ms;
        poll_until(
            [this, started, deadline] {
                auto now = core::steady_ms();
                if (session_.running_count() > 0) return now >= deadline;
                return session_.idle() || now >= started + settle_ms;
            },
            [this] {
                if (auto left = session_.running_count(); left > 0)
                    log_line(std::to_string(left) +
                             " job(s) still running after SIGKILL; leaving them to their supervisors");
                finish(core::exit_ok);
            });
    }

    /// 401/403 on the upgrade: exit 3 with one line (SPEC §1), like any client that cannot
    /// authenticate; running jobs are abandoned to the hub as on a second signal.
    void rejected(const std::string& reason) {
        std::string line = "orbitmesh: error: " + reason + " (check the agent's --token, --token-file or ORBITMESH_TOKEN)\n";
        [[maybe_unused]] auto n = ::write(STDERR_FILENO, line.data(), line.size());
        finish(core::exit_unavailable);
    }

    void leave_now() {
        log_line("second signal: killing what still runs and exiting now");
        finish(core::exit_interrupted);
    }

    /// Abandons what still runs (the hub reassigns it), closes the connection, waits briefly for
    /// the killed processes to be reaped, then stops the io_context.
    void finish(int code) {
        if (finishing_) return;
        finishing_ = true;
        exit_code_ = code;
        session_.abandon_jobs();
        connection_->stop("agent shutting down");
        auto deadline = core::steady_ms() + reap_budget_ms;
        // Waiting for the close to complete lets the hub see a clean close, not a reset.
        poll_until(
            [this, deadline] {
                return (session_.running_count() == 0 && connection_->idle()) ||
                       core::steady_ms() >= deadline;
            },
            [this] {
                if (session_.running_count() > 0 && !stop_token_) {
                    log_line("some job processes did not end; exiting without them");
                    std::_Exit(exit_code_);
                }
                reaper_.cancel();
                io_.stop();
            });
    }

    /// Checks `ready` every 50 ms on the io thread and then runs `then` once.
    void poll_until(std::function<bool()> ready, std::function<void()> then) {
        if (ready()) return then();
        poll_.expires_after(std::chrono::milliseconds(50));
        poll_.async_wait([this, ready = std::move(ready),
                          then = std::move(then)](const boost::system::error_code& ec) mutable {
            if (!ec) poll_until(std::move(ready), std::move(then));
        });
    }

    net::io_context io_;
    net::thread_pool blocking_;
    outbox_writer outbox_;
    agent_session session_;
    std::unique_ptr<hub_connection> connection_;
    net::signal_set signals_;
    net::steady_timer poll_;
    net::steady_timer reaper_{io_};
    net::steady_timer stop_poll_{io_};
    std::shared_ptr<std::atomic<bool>> stop_token_;
    std::int64_t stop_grace_ms_;
    int signals_seen_ = 0;
    bool finishing_ = false;
    int exit_code_ = core::exit_ok;
};

}  // namespace

int run_agent(const agent_options& opts) {
    auto o = resolved(opts);
    set_verbose(o.verbose);
    // Checked before the data dir is touched: a missing bubblewrap is a usage error, exit 2.
    std::shared_ptr<const sandbox_config> sandbox;
    if (o.sandbox) sandbox = std::make_shared<const sandbox_config>(find_sandbox(o.sandbox_network, o.data_dir));
    if (opts.allowed_roots.empty()) {
        std::error_code ec;
        fs::create_directories(o.data_dir / "files", ec);
    }
    // A peer or a job's stdin going away must give EPIPE, not kill the agent. Jobs get the
    // default disposition back when they are spawned.
    ::signal(SIGPIPE, SIG_IGN);
    data_dir_lock lock(o.data_dir);  // first: what follows kills "leftovers" recorded there
    auto agent_id = load_or_create_agent_id(o.data_dir);
    // Before any thread of the agent's: its fork server is a copy of it (see fork_server.hpp).
    auto containment = std::make_shared<job_containment>(
        job_containment::options{o.data_dir / "running", agent_id, o.cgroups, true});
    report_lost(containment->kill_leftovers());  // before hello: they must not be running anywhere
    auto registry = make_registry({o.no_shell, o.handlers_dir, o.allowed_roots, o.data_dir, containment, sandbox, o.node,
                                   o.wasm_timeout_ms});
    for (auto& h : make_file_watch_handlers({std::make_shared<const path_guard>(o.allowed_roots), o.server, o.token, agent_id, o.name}))
        registry.add(std::move(h));
    auto box = store::outbox::open(o.data_dir / "outbox.db");
    log_line("\"" + o.name + "\" (" + agent_id + ") starting with " + std::to_string(o.concurrency) +
             " slot(s); data in " + o.data_dir.string());
    log_line("job processes: " + containment->describe());
    if (sandbox)
        log_line("shell and exec jobs run sandboxed by " + sandbox->bwrap + " (network " +
                 (sandbox->allow_network ? "for jobs that ask" : "never") + ")");
    agent_process agent(o, agent_id, registry, std::move(box));
    return agent.run();
}

}  // namespace orbitmesh::engine
