#include "cli/local_mesh.hpp"

#include <chrono>

#include "cli/api_client.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/url.hpp"
#include "engine/agent/agent_log.hpp"
#include "engine/agent/agent_runtime.hpp"
#include "engine/hub/hub_log.hpp"
#include "transport/server.hpp"
#include "engine/serve/hub_server.hpp"

namespace orbitmesh::cli {

namespace {

template <class Ready>
bool wait_for(Ready ready, std::chrono::milliseconds limit) {
    auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
        if (ready()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return ready();
}

}  // namespace

local_mesh::local_mesh(const local_mesh_options& opts) {
    const auto& data_dir = opts.data_dir;
    if (opts.quiet) {
        core::log::silence();
    }
    std::error_code ec;
    std::filesystem::create_directories(data_dir / "agents" / "local", ec);
    if (ec)
        throw core::error(core::error_kind::usage, "cannot create the --data-dir " + data_dir.string() + ": " +
                                                       ec.message() + " (pick a writable directory)");
    start_hub(data_dir);
    try {
        if (!wait_for([this] { return port_.load() != 0 || ended_.load(); }, std::chrono::seconds(20)))
            throw core::error(core::error_kind::unavailable, "the local hub did not start listening within 20s");
        rethrow_failure();
        if (port_.load() == 0)
            throw core::error(core::error_kind::unavailable, "the local hub stopped before it listened (see its log above)");
        start_agent(opts);
    } catch (...) {
        stop();  // join before the exception leaves: a joinable std::thread must not be destroyed
        throw;
    }
}

local_mesh::~local_mesh() {
    try {
        stop();
    } catch (...) {  // a destructor must not throw; stop() only joins threads
    }
}

std::string local_mesh::server_url() const {
    return "http://127.0.0.1:" + std::to_string(port_.load());
}

void local_mesh::start_hub(const std::filesystem::path& data_dir) {
    engine::hub_options o;
    o.host = "127.0.0.1";
    o.port = 0;
    o.data_dir = data_dir;
    o.stop_token = hub_stop_;
    o.on_listening = [this](std::uint16_t port) { port_.store(port); };
    hub_thread_ = std::thread([this, o] {
        try {
            engine::run_hub(o);
        } catch (...) {
            std::lock_guard lock(failure_mutex_);
            failure_ = std::current_exception();
        }
        ended_.store(true);
    });
}

void local_mesh::start_agent(const local_mesh_options& opts) {
    engine::agent_options o;
    o.server = core::parse_server_url(server_url());
    o.name = "local";
    o.data_dir = opts.data_dir / "agents" / "local";
    o.handlers_dir = opts.handlers_dir;
    o.tags = opts.tags;
    o.capabilities = opts.capabilities;
    o.concurrency = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    o.stop_token = agent_stop_;
    agent_thread_ = std::thread([this, o] {
        try {
            engine::run_agent(o);
        } catch (...) {
            std::lock_guard lock(failure_mutex_);
            failure_ = std::current_exception();
        }
        ended_.store(true);
    });
}

void local_mesh::wait_for_agent() {
    global_options g;
    g.server = server_url();
    api_client api(g);
    auto connected = [&] {
        rethrow_failure();
        for (const auto& a : api.get("/api/v1/agents").value("agents", core::json::array()))
            if (a.value("name", std::string{}) == "local" && a.value("state", std::string{}) == "connected") return true;
        return false;
    };
    if (!wait_for(connected, std::chrono::seconds(20)))
        throw core::error(core::error_kind::unavailable, "the local agent did not connect to the local hub within 20s");
}

void local_mesh::rethrow_failure() {
    std::lock_guard lock(failure_mutex_);
    if (failure_) std::rethrow_exception(failure_);
}

void local_mesh::stop() {
    agent_stop_->store(true);
    if (agent_thread_.joinable()) agent_thread_.join();
    hub_stop_->store(true);
    if (hub_thread_.joinable()) hub_thread_.join();
}

}  // namespace orbitmesh::cli
