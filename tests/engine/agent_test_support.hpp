#pragma once
// Shared helpers for the agent tests: a bounded io loop, a recording job context, temp dirs.
#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "engine/agent/handler.hpp"
#include "transport/asio.hpp"

namespace agent_test {

using namespace orbitmesh::engine::agent;
using orbitmesh::core::json;
namespace net = orbitmesh::net;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

inline std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(steady::now().time_since_epoch()).count();
}

/// A fresh directory under /tmp, removed with everything in it at the end of the test.
struct temp_dir {
    fs::path path;
    temp_dir() {
        std::string tmpl = (fs::temp_directory_path() / "orbitmesh-agent-XXXXXX").string();
        path = ::mkdtemp(tmpl.data());
    }
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

inline void write_file(const fs::path& p, const std::string& text, bool executable = false) {
    std::ofstream(p) << text;
    if (executable) fs::permissions(p, fs::perms::owner_all | fs::perms::group_read | fs::perms::others_read);
}

/// True while `pid` exists and is not a zombie waiting for a parent that never reaps.
inline bool process_alive(int pid) {
    if (::kill(pid, 0) != 0) return false;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(stat, line);
    auto close = line.rfind(')');
    return close == std::string::npos || close + 2 >= line.size() || line[close + 2] != 'Z';
}

/// An io_context kept alive by a work guard, with a thread pool for blocking handler work.
struct io_fixture {
    net::io_context io;
    net::executor_work_guard<net::io_context::executor_type> guard = net::make_work_guard(io);
    net::thread_pool pool{2};

    /// Runs handlers until `done()` or `limit` has passed; returns done().
    bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit = 10s) {
        auto deadline = steady::now() + limit;
        while (!done() && steady::now() < deadline) io.run_one_for(10ms);
        return done();
    }
    /// Runs handlers for `d` no matter what.
    void run_for(std::chrono::milliseconds d) {
        auto deadline = steady::now() + d;
        while (steady::now() < deadline) io.run_one_for(5ms);
    }
    ~io_fixture() { pool.join(); }
};

/// What one job emitted, with the time of each event.
struct job_probe {
    std::vector<std::pair<output_stream, std::string>> lines;
    std::vector<std::int64_t> line_ms;
    std::vector<std::pair<double, std::string>> progress;
    std::optional<job_result> result;
    std::int64_t started_ms = now_ms();
    std::int64_t finished_ms = 0;

    std::vector<std::string> texts(output_stream s) const {
        std::vector<std::string> out;
        for (const auto& [st, text] : lines)
            if (st == s) out.push_back(text);
        return out;
    }
};

/// Starts `h` on a context whose events land in the returned probe.
inline std::shared_ptr<job_context> start_job(io_fixture& fx, handler& h, json payload,
                                              const std::shared_ptr<job_probe>& probe,
                                              std::int64_t timeout_ms = 0) {
    job_request req;
    req.job_id = "job-" + std::to_string(now_ms());
    req.attempt = 2;
    req.idempotency_key = "key-42";
    req.command = h.name();
    req.payload = std::move(payload);
    req.timeout_ms = timeout_ms;
    job_events ev;
    ev.on_output = [probe](output_stream s, std::string line) {
        probe->lines.emplace_back(s, std::move(line));
        probe->line_ms.push_back(now_ms());
    };
    ev.on_progress = [probe](double pct, std::string msg) {
        probe->progress.emplace_back(pct, std::move(msg));
    };
    ev.on_finish = [probe](job_result r) {
        probe->result = std::move(r);
        probe->finished_ms = now_ms();
    };
    auto ctx = std::make_shared<job_context>(fx.io, fx.pool, std::move(req), std::move(ev));
    try {
        h.start(ctx);
    } catch (const std::exception& e) {
        ctx->finish(job_result{job_status::failed, std::nullopt, nullptr, e.what()});
    }
    return ctx;
}

/// Runs `h` with `payload` to its end (bounded) and returns the probe.
inline std::shared_ptr<job_probe> run_job(io_fixture& fx, handler& h, json payload,
                                          std::chrono::milliseconds limit = 10s) {
    auto probe = std::make_shared<job_probe>();
    auto ctx = start_job(fx, h, std::move(payload), probe);
    fx.run_until([&] { return probe->result.has_value(); }, limit);
    return probe;
}

}  // namespace agent_test
