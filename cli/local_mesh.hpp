#pragma once
#include <atomic>
#include <cstdint>
#include <map>
#include <vector>
#include <exception>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace orbitmesh::cli {

/// What `run --local` passes on to its private hub and agent.
struct local_mesh_options {
    std::filesystem::path data_dir;
    std::filesystem::path handlers_dir;  // the agent's --handlers; empty = none
    std::map<std::string, std::string> tags;  // the agent's --tag
    std::vector<std::string> capabilities;    // the agent's --capability
    bool quiet = false;  // -q: the in-process hub and agent log nothing
};

/// `run --local`: a private hub on 127.0.0.1 (port 0) and one agent ("local", one slot per core),
/// each on its own thread in this process, stopped through their stop tokens. No signals are
/// raised or taken over.
class local_mesh {
public:
    /// True when this build's engine can stop an in-process hub and agent (their options carry a

    /// Starts both and waits (up to 20 s) until the hub listens. Throws core::error.
    explicit local_mesh(const local_mesh_options& opts);
    ~local_mesh();
    local_mesh(const local_mesh&) = delete;
    local_mesh& operator=(const local_mesh&) = delete;

    /// `http://127.0.0.1:PORT` of the private hub.
    std::string server_url() const;
    /// Blocks (up to 20 s) until the agent has connected to the hub; throws core::error when not.
    void wait_for_agent();
    /// Stops the agent, then the hub, and joins both threads. Idempotent.
    void stop();

private:
    void start_hub(const std::filesystem::path& data_dir);
    void start_agent(const local_mesh_options& opts);
    void rethrow_failure();

    std::shared_ptr<std::atomic<bool>> hub_stop_ = std::make_shared<std::atomic<bool>>(false);
    std::shared_ptr<std::atomic<bool>> agent_stop_ = std::make_shared<std::atomic<bool>>(false);
    std::atomic<std::uint16_t> port_{0};
    std::thread hub_thread_, agent_thread_;
    std::mutex failure_mutex_;
    std::exception_ptr failure_;
    std::atomic<bool> ended_{false};  // a thread returned early
};

}  // namespace orbitmesh::cli
