#include "engine/events/otlp_exporter.hpp"

#include <chrono>

#include <pthread.h>

#include "core/traceparent.hpp"
#include "engine/hub/hub_log.hpp"
#include "transport/webhook_client.hpp"

namespace orbitmesh::engine {

namespace {

constexpr std::size_t max_queued = 10'000;
constexpr std::size_t spans_per_post = 512;
constexpr auto post_timeout = std::chrono::seconds(5);

core::json attr(const char* key, const std::string& v) { return {{"key", key}, {"value", {{"stringValue", v}}}}; }
core::json attr(const char* key, std::int64_t v) { return {{"key", key}, {"value", {{"intValue", std::to_string(v)}}}}; }

std::string nanos(std::int64_t ms) { return std::to_string(ms) + "000000"; }

}  // namespace

otlp_exporter::otlp_exporter(core::server_url endpoint, std::string service_version)
    : endpoint_(std::move(endpoint)), version_(std::move(service_version)) {
    thread_ = std::thread([this] {
        pthread_setname_np(pthread_self(), "om-otlp");
        run();
    });
}

otlp_exporter::~otlp_exporter() { stop(); }

core::json otlp_exporter::span_of(const core::job_record& job) {
    auto parent = core::parse_traceparent(job.spec.trace);
    if (!parent) return nullptr;
    const auto self = core::child_of(*parent, job.id);
    const bool ok = job.state == core::job_state::succeeded;
    core::json attributes = core::json::array({attr("orbitmesh.job.id", job.id), attr("orbitmesh.job.command", job.spec.command),
                                               attr("orbitmesh.job.state", std::string(core::to_string(job.state))),
                                               attr("orbitmesh.job.attempt", static_cast<std::int64_t>(job.attempt))});
    if (!job.agent_id.empty()) attributes.push_back(attr("orbitmesh.agent.id", job.agent_id));
    if (!job.agent_name.empty()) attributes.push_back(attr("orbitmesh.agent.name", job.agent_name));
    if (job.exit_code) attributes.push_back(attr("orbitmesh.job.exit_code", static_cast<std::int64_t>(*job.exit_code)));
    core::json status{{"code", ok ? 1 : 2}};  // STATUS_CODE_OK / STATUS_CODE_ERROR
    if (!ok && !job.error.empty()) status["message"] = job.error;
    return {{"traceId", self.trace_id},
            {"spanId", self.span_id},
            {"parentSpanId", parent->span_id},
            {"name", "job " + job.spec.command},
            {"kind", 5},  // SPAN_KIND_CONSUMER: the job is work taken from a queue
            {"startTimeUnixNano", nanos(job.created_ms)},
            {"endTimeUnixNano", nanos(job.finished_ms > 0 ? job.finished_ms : job.updated_ms)},
            {"attributes", std::move(attributes)},
            {"status", std::move(status)}};
}

void otlp_exporter::job_ended(const core::job_record& job) {
    auto span = span_of(job);
    if (span.is_null()) return;
    std::lock_guard lock(mu_);
    if (stop_) return;
    if (queue_.size() >= max_queued) {
        ++dropped_;
        return;
    }
    queue_.push_back(std::move(span));
    wake_.notify_one();
}

void otlp_exporter::add_stats(core::json& stats) const {
    std::lock_guard lock(mu_);
    stats["otlp"] = {{"spans_sent", sent_}, {"spans_dropped", dropped_}, {"failed_posts", failed_posts_}};
}

void otlp_exporter::stop() {
    {
        std::lock_guard lock(mu_);
        if (stop_) return;
        stop_ = true;
        wake_.notify_one();
    }
    if (thread_.joinable()) thread_.join();
}

void otlp_exporter::run() {
    for (;;) {
        std::deque<core::json> batch;
        bool last = false;
        {
            std::unique_lock lock(mu_);
            wake_.wait(lock, [this] { return stop_ || !queue_.empty(); });
            last = stop_;
            while (!queue_.empty() && batch.size() < spans_per_post) {
                batch.push_back(std::move(queue_.front()));
                queue_.pop_front();
            }
        }
        if (!batch.empty()) post(batch);
        if (last) {
            std::lock_guard lock(mu_);
            if (queue_.empty()) return;
        }
    }
}

void otlp_exporter::post(std::deque<core::json>& spans) {
    core::json list = core::json::array();
    for (auto& s : spans) list.push_back(std::move(s));
    // OTLP/JSON: resourceSpans[] > scopeSpans[] > spans[], ids as lower-case hex.
    core::json resource{{"attributes", core::json::array({attr("service.name", "orbitmesh"), attr("service.version", version_)})}};
    core::json scope{{"name", "orbitmesh"}, {"version", version_}};
    core::json scope_spans = core::json::array();
    scope_spans.push_back(core::json{{"scope", std::move(scope)}, {"spans", std::move(list)}});
    core::json resource_spans = core::json::array();
    resource_spans.push_back(core::json{{"resource", std::move(resource)}, {"scopeSpans", std::move(scope_spans)}});
    core::json body = core::json::object();
    body["resourceSpans"] = std::move(resource_spans);
    const auto n = spans.size();
    try {
        auto r = transport::post_webhook(endpoint_, body.dump(-1, ' ', false, core::json::error_handler_t::replace),
                                         std::chrono::duration_cast<std::chrono::milliseconds>(post_timeout));
        std::lock_guard lock(mu_);
        if (r.status >= 200 && r.status < 300) {
            sent_ += n;
            return;
        }
        ++failed_posts_;
        dropped_ += n;
        hub_log("warning: OTLP endpoint answered " + std::to_string(r.status) + " to " + std::to_string(n) +
                " spans; they are dropped");
    } catch (const std::exception& e) {
        std::lock_guard lock(mu_);
        ++failed_posts_;
        dropped_ += n;
        hub_log(std::string("warning: OTLP export of ") + std::to_string(n) + " spans failed: " + e.what());
    }
}

}  // namespace orbitmesh::engine
