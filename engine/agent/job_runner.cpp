#include "engine/agent/job_runner.hpp"

#include <exception>

#include "core/duration.hpp"
#include "engine/agent/agent_log.hpp"
#include "transport/asio.hpp"

namespace orbitmesh::engine::agent {

namespace {
enum class stop_kind { none, cancelled, timed_out };
}  // namespace

struct job_runner::job {
    std::shared_ptr<job_context> ctx;
    std::unique_ptr<net::steady_timer> timeout;
    std::uint64_t generation = 0;
    std::int64_t seq = 0;
    stop_kind stop = stop_kind::none;
    std::string stop_reason;
    bool abandoned = false;
};

std::string_view to_string(job_runner::admission a) noexcept {
    switch (a) {
        case job_runner::admission::started: return "started";
        case job_runner::admission::already_running: return "already running";
        case job_runner::admission::busy: return "busy";
        case job_runner::admission::unknown_command: return "unknown command";
        case job_runner::admission::draining: return "draining";
    }
    return "busy";
}

job_runner::job_runner(net::io_context& io, net::thread_pool& blocking, const handler_registry& handlers,
                       int slots, callbacks cb)
    : io_(io), blocking_(blocking), handlers_(handlers), slots_(slots < 1 ? 1 : slots), cb_(std::move(cb)) {}

job_runner::~job_runner() = default;

job_runner::admission job_runner::start(job_request req) {
    if (draining_) return admission::draining;
    key k{req.job_id, req.attempt};
    if (jobs_.count(k)) return admission::already_running;
    // An unknown command is permanent, busy is not: say the one that helps the hub most.
    auto h = handlers_.find(req.command);
    if (!h) return admission::unknown_command;
    if (static_cast<int>(jobs_.size()) >= slots_) return admission::busy;

    auto gen = ++next_generation_;
    auto j = std::make_unique<job>();
    j->generation = gen;
    j->ctx = std::make_shared<job_context>(io_, blocking_, std::move(req), events_for(k, gen));
    auto ctx = j->ctx;
    auto& ref = *jobs_.emplace(k, std::move(j)).first->second;
    arm_timeout(ref);
    try {
        h->start(ctx);
    } catch (const std::exception& e) {
        ctx->finish(job_result{job_status::failed, std::nullopt, nullptr, e.what()});
    }
    return admission::started;
}

job_events job_runner::events_for(const key& k, std::uint64_t gen) {
    // Events look their job up by key and generation: a late event of an erased job is dropped.
    auto lookup = [this, k, gen]() -> job* {
        auto it = jobs_.find(k);
        return it != jobs_.end() && it->second->generation == gen ? it->second.get() : nullptr;
    };
    job_events ev;
    ev.on_output = [this, lookup](output_stream s, std::string line) {
        auto* j = lookup();
        if (!j || j->abandoned) return;
        const auto& r = j->ctx->request();
        cb_.send({{"t", "output"},
                  {"job_id", r.job_id},
                  {"attempt", r.attempt},
                  {"seq", ++j->seq},
                  {"stream", to_string(s)},
                  {"data", std::move(line)}});
    };
    ev.on_progress = [this, lookup](double percent, std::string message) {
        auto* j = lookup();
        if (!j || j->abandoned) return;
        const auto& r = j->ctx->request();
        cb_.send({{"t", "progress"},
                  {"job_id", r.job_id},
                  {"attempt", r.attempt},
                  {"percent", percent},
                  {"message", std::move(message)}});
    };
    ev.on_finish = [this, k, lookup](job_result r) {
        if (lookup()) finished(k, std::move(r));
    };
    return ev;
}

void job_runner::arm_timeout(job& j) {
    auto ms = j.ctx->timeout_ms();
    if (ms <= 0) return;
    j.timeout = std::make_unique<net::steady_timer>(io_, std::chrono::milliseconds(ms));
    std::weak_ptr<job_context> weak = j.ctx;
    j.timeout->async_wait([this, weak, &j](const boost::system::error_code& ec) {
        auto ctx = weak.lock();
        // The timer dies with its job, so `j` is valid whenever the wait was not cancelled.
        if (ec || !ctx || ctx->finished()) return;
        j.stop = stop_kind::timed_out;
        ctx->request_stop(timeout_grace_ms);
    });
}

bool job_runner::is_running(const std::string& job_id, int attempt) const {
    return jobs_.count({job_id, attempt}) > 0;
}

bool job_runner::cancel(const std::string& job_id, const std::string& reason, std::int64_t grace_ms) {
    bool any = false;
    for (auto it = jobs_.lower_bound({job_id, 0}); it != jobs_.end() && it->first.first == job_id; ++it) {
        auto& j = *it->second;
        any = true;
        if (j.stop == stop_kind::none) {
            j.stop = stop_kind::cancelled;
            j.stop_reason = reason;
        }
        j.ctx->request_stop(grace_ms < 0 ? default_cancel_grace_ms : grace_ms);
    }
    return any;
}

void job_runner::abandon_all() {
    draining_ = true;
    for (auto& [k, j] : jobs_) {
        j->abandoned = true;
        j->ctx->request_stop(0);
    }
}

std::vector<std::pair<std::string, int>> job_runner::running() const {
    std::vector<std::pair<std::string, int>> out;
    out.reserve(jobs_.size());
    for (const auto& [k, j] : jobs_) out.push_back(k);
    return out;
}

void job_runner::finished(const key& k, job_result r) {
    auto node = jobs_.extract(k);
    auto& j = *node.mapped();
    if (j.timeout) j.timeout->cancel();
    if (j.abandoned) return;
    cb_.on_result(result_message(j, std::move(r)));
}

core::json job_runner::result_message(const job& j, job_result r) const {
    const auto& req = j.ctx->request();
    // A stop the handler honoured decides the status; a job that won the race and succeeded
    // keeps its success (its work is done).
    if (j.stop != stop_kind::none && r.status != job_status::succeeded) {
        if (j.stop == stop_kind::timed_out) {
            r.status = job_status::timed_out;
            r.error = "timed out after " + core::format_duration(req.timeout_ms);
        } else {
            r.status = job_status::cancelled;
            r.error = j.stop_reason.empty() ? "cancelled" : "cancelled: " + j.stop_reason;
        }
    }
    return {{"t", "result"},
            {"job_id", req.job_id},
            {"attempt", req.attempt},
            {"status", to_string(r.status)},
            {"exit_code", r.exit_code ? core::json(*r.exit_code) : core::json(nullptr)},
            {"output", std::move(r.output)},
            {"error", std::move(r.error)}};
}

}  // namespace orbitmesh::engine::agent
