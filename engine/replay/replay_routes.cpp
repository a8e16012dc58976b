#include "engine/replay/replay_routes.hpp"

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
#include "store/store_url.hpp"

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

// The hub's store: its SQLite file, or the PostgreSQL URL whose copy each request reads.
struct store_source {
    std::filesystem::path file;
    std::string url;
};

std::string until_of(const http_request& req) { return req.query.count("until") ? req.query.at("until") : std::string{}; }

std::int64_t resolve(const std::filesystem::path& file, const std::string& until) {
    store::event_scan log(file);
    return replay::resolve_until(log, until);
}

}  // namespace

void add_replay_routes(route_table& t, std::filesystem::path store_file, std::string store_url) {
    using P = const route_params&;
    using W = const core::principal&;
    auto running = std::make_shared<std::atomic<int>>(0);
    const store_source src{std::move(store_file), std::move(store_url)};
    t.add("GET", "/api/v1/replay", operators, [src, running](const http_request& req, P, W, http_reply reply) {
        off_the_hub(running, std::move(reply), [src, until = until_of(req)] {
            const store::sqlite_view view(src.file, src.url);
            return replay::log_summary(view.file(), resolve(view.file(), until));
        });
    });
    auto timeline = [src, running](bool trace) {
        return [src, running, trace](const http_request& req, P p, W, http_reply reply) {
            off_the_hub(running, std::move(reply), [src, until = until_of(req), id = p[0], trace] {
                const store::sqlite_view view(src.file, src.url);
                const auto tl = replay::load_timeline(view.file(), id, resolve(view.file(), until));
                return trace ? replay::chrome_trace(tl) : replay::to_json(tl);
            });
        };
    };
    t.add("GET", "/api/v1/replay/{id}", operators, timeline(false));
    t.add("GET", "/api/v1/replay/{id}/chrome-trace", operators, timeline(true));
    t.add("GET", "/api/v1/verify", operators, [src, running](const http_request&, P, W, http_reply reply) {
        off_the_hub(running, std::move(reply), [src] {
            const store::sqlite_view view(src.file, src.url);
            return replay::to_json(replay::verify_store(view.file()));
        });
    });
}

}  // namespace orbitmesh::engine
