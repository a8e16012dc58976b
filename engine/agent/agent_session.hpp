#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/json.hpp"
#include "engine/agent/job_runner.hpp"
#include "engine/agent/outbox_writer.hpp"

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
/// cancel, result_ack and invoke, and keeps every result in the outbox until the hub has it.
/// Lives on the io thread; not thread-safe.
class agent_session {
public:
    using send_fn = std::function<void(core::json)>;  // drops silently when not connected

    agent_session(boost::asio::io_context& io, boost::asio::thread_pool& blocking,
                  const handler_registry& handlers, outbox_writer& outbox, agent_profile profile,
                  send_fn send);

    /// Reads results left from an earlier run (synchronous); call once before connecting.
    void load_outbox();
    core::json hello() const;
    core::json heartbeat() const;
    /// Registered: resend every stored result.
    void on_welcome();
    /// One message from the hub; unknown types are ignored.
    void on_message(const core::json& m);

    /// Stop taking jobs (nack "draining"); running ones go on.
    void begin_drain() { runner_.drain(); }
    /// Nothing runs and every result has been acknowledged.
    bool idle() const { return runner_.running_count() == 0 && results_.empty(); }
    /// Kill everything running now and drop its results (the hub reassigns them).
    void abandon_jobs() { runner_.abandon_all(); }
    std::size_t running_count() const { return runner_.running_count(); }

private:
    using key = std::pair<std::string, int>;
    struct held_result {
        core::json message;
        bool stored = false;  // durable in the outbox; only then is it sent
    };
    void on_assign(const core::json& m);
    void on_cancel(const core::json& m);
    void on_result_ack(const core::json& m);
    void on_invoke(const core::json& m);
    void on_result(core::json result);

    outbox_writer& outbox_;
    agent_profile profile_;
    send_fn send_;
    std::vector<std::string> handler_names_;
    job_runner runner_;
    std::map<key, held_result> results_;
};

}  // namespace orbitmesh::engine::agent
