#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/json.hpp"
#include "engine/agent/job_runner.hpp"
#include "engine/agent/outbox_writer.hpp"
#include "engine/agent/output_buffer.hpp"

namespace orbitmesh::engine::agent {

/// Who this agent says it is in `hello`.
struct agent_profile {
    std::string agent_id;
    std::string name;
    std::string version;
    std::map<std::string, std::string> tags;
    std::vector<std::string> capabilities;
    int concurrency = 1;
    std::filesystem::path disk_path;  // measured by system.* and invoke
};

/// The agent's side of the protocol (SPEC §2) for one hub, across reconnects: answers assign,
/// cancel, result_ack and invoke, and keeps every result in the outbox until the hub has it,
/// with the output the hub may have missed (output_buffer: resent after every reconnect).
/// Lives on the io thread; not thread-safe.
class agent_session {
public:
    using send_fn = std::function<void(const core::json&)>;  // drops silently when not connected

    agent_session(boost::asio::io_context& io, boost::asio::thread_pool& blocking,
                  const handler_registry& handlers, outbox_writer& outbox, agent_profile profile,
                  send_fn send);
    ~agent_session();

    /// Reads results left from an earlier run (synchronous); call once before connecting.
    void load_outbox();
    core::json hello() const;
    core::json heartbeat() const;
    /// Longest an ack waits for its job's result (see hold_ack), far below any ack timeout.
    static constexpr std::int64_t max_ack_hold_ms = 200;

    /// Registered: resend every stored result.
    void on_welcome();
    /// One message from the hub; unknown types are ignored. Fields are moved out of `m`.
    void on_message(core::json m);

    /// Stop taking jobs (nack "draining"); running ones go on.
    void begin_drain() { runner_.drain(); }
    /// Nothing runs and every result has been acknowledged.
    bool idle() const { return runner_.running_count() == 0 && results_.empty(); }
    /// Stop everything running (SIGTERM, SIGKILL after `grace_ms`) and drop its results (the hub
    /// reassigns them).
    void abandon_jobs(std::int64_t grace_ms = 0) { runner_.abandon_all(grace_ms); }
    std::size_t running_count() const { return runner_.running_count(); }

private:
    using key = core::job_key;
    struct held_result {
        core::json message;     // set once stored
        bool stored = false;    // durable in the outbox; only then is it sent
        bool ack_held = false;  // not acked yet: the ack goes out with the result
    };
    using result_map = std::map<key, held_result, core::job_key_less>;
    struct timers;
    void on_assign(core::json& m);
    void send_ack(const std::string& job_id, int attempt);
    void hold_ack(result_map::iterator hint, key k);
    void release_held_acks();
    void on_cancel(const core::json& m);
    void on_result_ack(const core::json& m);
    void on_invoke(const core::json& m);
    // agent_twin.cpp: the twin's desired half applied here, the reported half sent back
    void on_twin_desired(const core::json& m);
    void report_twin();
    void on_result(core::json result);
    void store_results();
    void on_stored(std::vector<store::outbox::entry> entries, const std::string& error);
    void on_job_message(core::json m);

    boost::asio::io_context& io_;
    outbox_writer& outbox_;
    agent_profile profile_;
    send_fn send_;
    std::vector<std::string> handler_names_;
    job_runner runner_;
    output_buffer output_;  // declared before runner_'s callbacks can fire (they run on the io thread)
    result_map results_;
    /// Results finished during this io turn, stored together by one store_results() call.
    std::vector<store::outbox::entry> to_store_;
    bool store_posted_ = false;
    std::unique_ptr<timers> timers_;
    bool ack_timer_armed_ = false;
    core::json twin_applied_ = core::json::object();  // drain, concurrency, labels as applied
    std::int64_t twin_version_ = 0;                   // desired version last applied
    std::int64_t reported_version_ = 0;
};

}  // namespace orbitmesh::engine::agent
