#include "engine/hub/replay_routes.hpp"

#include <atomic>
#include <memory>
#include <thread>

#include "core/error.hpp"
#include "engine/hub/http_json.hpp"
#include "engine/replay/chrome_trace.hpp"
#include "engine/replay/log_summary.hpp"
#include "engine/replay/timeline.hpp"
#include "engine/replay/verify.hpp"
#include "store/event_scan.hpp"

namespace orbitmesh::engine {

namespace {

using transport::http_reply;
using transport::http_request;

constexpr int max_running = 2;  // a verify of a big log reads for seconds: bound them

/// Runs `work` on its own thread and replies with what it returns (or the error it throws).
void off_the_hub(const std::shared_ptr<std::atomic<int>>& running, http_reply reply, std::function<core::json()> work) {
    if (running->fetch_add(1) >= max_running) {
        running->fetch_sub(1);
        return reply(error_response(core::error(core::error_kind::unavailable,
                                                "two replay requests are running already; retry shortly or use "
                                                "`orbitmesh replay --data-dir` on the hub's machine")));
    }
    std::thread([running, reply = std::move(reply), work = std::move(work)] {
        try {
            reply(json_response(200, work()));
        } catch (const core::error& e) {
            reply(error_response(e));
        } catch (const std::exception& e) {
            reply(error_response(core::error(core::error_kind::internal, std::string("replay: ") + e.what())));
        }
        running->fetch_sub(1);
    }).detach();
}

std::string until_of(const http_request& req) { return req.query.count("until") ? req.query.at("until") : std::string{}; }

std::int64_t resolve(const std::filesystem::path& file, const std::string& until) {
    store::event_scan log(file);
    return replay::resolve_until(log, until);
}

}  // namespace

extra_routes make_replay_routes(std::filesystem::path store_file) {
    auto running = std::make_shared<std::atomic<int>>(0);
    extra_routes routes;
    routes["replay"] = [file = store_file, running](http_request req, http_reply reply) {
        const auto seg = path_segments(req.path);
        if (req.method != "GET" || seg.size() > 5)
            throw core::error(core::error_kind::not_found, "no route " + req.method + " " + req.path + " (see docs/http-api.md)");
        const auto until = until_of(req);
        if (seg.size() == 3)
            return off_the_hub(running, std::move(reply), [file, until] { return replay::log_summary(file, resolve(file, until)); });
        const auto id = seg[3];
        if (seg.size() == 5 && seg[4] != "chrome-trace")
            throw core::error(core::error_kind::not_found, "no route GET " + req.path + " (replay/ID/chrome-trace?)");
        const bool trace = seg.size() == 5;
        off_the_hub(running, std::move(reply), [file, until, id, trace] {
            const auto t = replay::load_timeline(file, id, resolve(file, until));
            return trace ? replay::chrome_trace(t) : replay::to_json(t);
        });
    };
    routes["verify"] = [file = store_file, running](http_request req, http_reply reply) {
        if (req.method != "GET" || path_segments(req.path).size() != 3)
            throw core::error(core::error_kind::not_found, "no route " + req.method + " " + req.path + " (GET /api/v1/verify)");
        off_the_hub(running, std::move(reply), [file] { return replay::to_json(replay::verify_store(file)); });
    };
    return routes;
}

}  // namespace orbitmesh::engine
