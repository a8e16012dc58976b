#pragma once
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/json.hpp"
#include "core/url.hpp"
#include "engine/hub/job_port.hpp"

namespace orbitmesh::engine {

/// `serve --otlp-endpoint URL`: every finished job becomes an OTLP span (its trace, its own span,
/// the submitter's span as parent), POSTed as OTLP/HTTP JSON (`{"resourceSpans": …}`) by a thread
/// of its own in batches. The queue is bounded: past it spans are dropped and counted, never
/// allowed to slow the hub. A failed POST is logged (once per burst) and its spans dropped.
class otlp_exporter final : public job_observer {
public:
    otlp_exporter(core::server_url endpoint, std::string service_version);
    ~otlp_exporter() override;

    void replay(const core::event&) override {}
    void recovered() override {}
    void job_ended(const core::job_record& job) override;  // on the hub strand: queues only
    void job_output(const store::log_line&) override {}
    void add_stats(core::json& stats) const override;

    /// Sends what is queued (bounded wait) and stops the thread. Idempotent.
    void stop();

    /// The OTLP span of a finished job (its JSON form), or null when the job has no trace.
    static core::json span_of(const core::job_record& job);

private:
    void run();
    void post(std::deque<core::json>& spans);

    core::server_url endpoint_;
    std::string version_;
    mutable std::mutex mu_;
    std::condition_variable wake_;
    std::deque<core::json> queue_;
    bool stop_ = false;
    std::uint64_t sent_ = 0, dropped_ = 0, failed_posts_ = 0;
    std::thread thread_;
};

}  // namespace orbitmesh::engine
