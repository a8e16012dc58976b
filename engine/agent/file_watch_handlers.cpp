// `filewatch.start|stop|list` (the original's `orbit:filewatch:start`): watches kept by the agent
// on inotify; each change, once debounced, is posted to the hub as a `file.changed` event.
#include <memory>
#include <mutex>

#include "core/error.hpp"
#include "engine/agent/agent_log.hpp"
#include "engine/agent/builtin_handlers.hpp"
#include "engine/agent/file_watcher.hpp"
#include "transport/http_client.hpp"

namespace orbitmesh::engine::agent {

namespace {

/// The agent's one watcher, started with the first watch; posts changes to the hub.
class watch_hub {
public:
    explicit watch_hub(file_watch_config cfg) : cfg_(std::move(cfg)) {}

    file_watcher& watcher() {
        std::lock_guard lock(mu_);
        if (!watcher_)
            watcher_ = std::make_unique<file_watcher>([this](const file_change& c) { post(c); });
        return *watcher_;
    }
    const path_guard& guard() const { return *cfg_.guard; }

private:
    // On the watcher thread: one blocking POST; a hub that is away loses the change (logged).
    void post(const file_change& c) {
        core::json body{{"type", "file.changed"},
                        {"correlation_key", c.watch_id},
                        {"data", {{"watch_id", c.watch_id}, {"path", c.path}, {"name", c.name}, {"change", c.change},
                                  {"agent", {{"id", cfg_.agent_id}, {"name", cfg_.agent_name}}}}}};
        try {
            if (!client_) client_ = std::make_unique<transport::http_client>(cfg_.server, cfg_.token);
            auto res = client_->request("POST", "/api/v1/events", body.dump(), std::chrono::seconds(5));
            if (res.status >= 300) log_line("filewatch " + c.watch_id + ": the hub answered " + std::to_string(res.status) + " to a file.changed event");
        } catch (const std::exception& e) {
            client_.reset();
            log_line("filewatch " + c.watch_id + ": could not post file.changed for " + c.path + ": " + e.what());
        }
    }

    file_watch_config cfg_;
    std::mutex mu_;
    std::unique_ptr<file_watcher> watcher_;
    std::unique_ptr<transport::http_client> client_;  // watcher thread only
};

template <typename T>
T field(const core::json& p, const char* snake, const char* camel, T fallback) {
    for (const char* k : {snake, camel})
        if (p.contains(k) && !p[k].is_null()) return p[k].get<T>();
    return fallback;
}

job_result start_watch(watch_hub& hub, const core::json& p) {
    if (!p.is_object()) throw core::error(core::error_kind::invalid_input, "filewatch.start: payload must be {watch_id, path, filter, …}");
    watch_spec w;
    w.id = field<std::string>(p, "watch_id", "watchId", "");
    auto path = field<std::string>(p, "path", "path", "");
    if (w.id.empty() || path.empty()) throw core::error(core::error_kind::invalid_input, "filewatch.start: payload needs watch_id and path");
    w.path = hub.guard().resolve(path, "filewatch.start");
    w.filter = field<std::string>(p, "filter", "filter", "*");
    w.recursive = field<bool>(p, "include_subdirectories", "includeSubdirectories", true);
    w.change_types = field<std::vector<std::string>>(p, "change_types", "changeTypes", {});
    w.debounce_ms = field<std::int64_t>(p, "debounce_ms", "debounceMs", 1000);
    if (w.debounce_ms < 0 || w.debounce_ms > 3'600'000) throw core::error(core::error_kind::invalid_input, "filewatch.start: debounce_ms must be 0 to 3600000");
    auto dirs = hub.watcher().start(w);
    return {job_status::succeeded, 0, {{"watching", true}, {"watch_id", w.id}, {"path", w.path.string()}, {"directories", dirs}}, ""};
}

class watch_handler final : public handler {
public:
    using work_fn = job_result (*)(watch_hub&, const core::json&);
    watch_handler(std::string name, std::shared_ptr<watch_hub> hub, work_fn work) : name_(std::move(name)), hub_(std::move(hub)), work_(work) {}
    std::string name() const override { return name_; }
    void start(const std::shared_ptr<job_context>& ctx) override {
        ctx->run_blocking([hub = hub_, work = work_, payload = ctx->payload()] { return work(*hub, payload); });
    }

private:
    std::string name_;
    std::shared_ptr<watch_hub> hub_;
    work_fn work_;
};

}  // namespace

std::vector<std::shared_ptr<handler>> make_file_watch_handlers(file_watch_config cfg) {
    auto hub = std::make_shared<watch_hub>(std::move(cfg));
    auto stop = [](watch_hub& h, const core::json& p) -> job_result {
        auto id = p.is_string() ? p.get<std::string>() : field<std::string>(p, "watch_id", "watchId", "");
        if (id.empty()) throw core::error(core::error_kind::invalid_input, "filewatch.stop: payload needs watch_id");
        return {job_status::succeeded, 0, {{"stopped", h.watcher().stop(id)}, {"watch_id", id}}, ""};
    };
    auto list = [](watch_hub& h, const core::json&) -> job_result {
        return {job_status::succeeded, 0, {{"watches", h.watcher().ids()}}, ""};
    };
    return {std::make_shared<watch_handler>("filewatch.start", hub, &start_watch),
            std::make_shared<watch_handler>("filewatch.stop", hub, +stop),
            std::make_shared<watch_handler>("filewatch.list", hub, +list)};
}

}  // namespace orbitmesh::engine::agent
