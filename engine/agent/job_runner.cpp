#include "engine/agent/job_runner.hpp"

#include <exception>

#include "core/duration.hpp"
#include "core/secret_mask.hpp"
#include "engine/agent/agent_log.hpp"
#include "engine/agent/message_builder.hpp"
#include "transport/asio.hpp"

namespace orbitmesh::engine::agent {

namespace {
enum class stop_kind { none, cancelled, timed_out };
}  // namespace

struct job_runner::job {
    std::shared_ptr<job_context> ctx;  // null while the slot is free
    job_map::iterator where;           // its entry in jobs_ while it runs
    std::unique_ptr<net::steady_timer> timeout;
    std::uint64_t generation = 0;
    std::int64_t seq = 0;
    stop_kind stop = stop_kind::none;
    std::string stop_reason;
    bool abandoned = false;
    core::secret_mask mask;  // the job's secret values; empty for most jobs
};

namespace {
constexpr int slot_bits = 32;

core::secret_mask mask_of(const job_request& req) {
    if (req.secrets.empty()) return {};
    std::vector<std::string> values;
    values.reserve(req.secrets.size());
    for (const auto& [name, value] : req.secrets) values.push_back(value);
    return core::secret_mask(values);
}

constexpr std::uint64_t slot_mask = (std::uint64_t{1} << slot_bits) - 1;
}  // namespace

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

job_runner::admission job_runner::start(job_request&& req, bool* finished_at_once) {
    if (draining_ || paused_) return admission::draining;
    const auto hint = jobs_.lower_bound(core::job_key_view(req.job_id, req.attempt));
    if (hint != jobs_.end() && hint->first.second == req.attempt && hint->first.first == req.job_id)
        return admission::already_running;
    // An unknown command is permanent, busy is not: say the one that helps the hub most.
    auto h = handlers_.find(req.command);
    if (!h) return admission::unknown_command;
    if (static_cast<int>(jobs_.size()) >= slots_) return admission::busy;

    std::uint32_t slot;
    if (free_slots_.empty()) {
        slot = static_cast<std::uint32_t>(slot_jobs_.size());
        slot_jobs_.push_back(std::make_unique<job>());
    } else {
        slot = free_slots_.back();
        free_slots_.pop_back();
    }
    auto& j = *slot_jobs_[slot];
    const auto gen = (++next_generation_ << slot_bits) | slot;
    j.generation = gen;
    j.where = jobs_.emplace_hint(hint, core::job_key(req.job_id, req.attempt), slot);
    j.mask = mask_of(req);
    if (req.timeout_ms <= 0) req.timeout_ms = h->default_timeout_ms();
    j.ctx = std::make_shared<job_context>(io_, blocking_, std::move(req), events_for(gen));  // takes req last
    auto ctx = j.ctx;
    arm_timeout(j);
    try {
        h->start(ctx);
    } catch (const std::exception& e) {
        ctx->finish(job_result{job_status::failed, std::nullopt, nullptr, e.what()});
    }
    if (finished_at_once) *finished_at_once = ctx->finished();
    return admission::started;
}

job_runner::job* job_runner::live(std::uint64_t gen) const {
    const auto slot = gen & slot_mask;
    if (slot >= slot_jobs_.size()) return nullptr;
    auto* j = slot_jobs_[slot].get();
    return j->ctx && j->generation == gen ? j : nullptr;
}

job_events job_runner::events_for(std::uint64_t gen) {
    // [this, gen] fits std::function's inline storage: no allocation per callback.
    job_events ev;
    ev.on_output = [this, gen](output_stream s, std::string line) {
        auto* j = live(gen);
        if (!j || j->abandoned) return;
        const auto& r = j->ctx->request();
        if (!j->mask.empty()) j->mask.apply(line);
        cb_.send(message_builder("output")
                     .add("job_id", r.job_id)
                     .add("attempt", r.attempt)
                     .add("seq", ++j->seq)
                     .add("stream", to_string(s))
                     .add("data", std::move(line))
                     .done());
    };
    ev.on_progress = [this, gen](double percent, std::string message) {
        auto* j = live(gen);
        if (!j || j->abandoned) return;
        const auto& r = j->ctx->request();
        if (!j->mask.empty()) j->mask.apply(message);
        cb_.send(message_builder("progress")
                     .add("job_id", r.job_id)
                     .add("attempt", r.attempt)
                     .add("percent", percent)
                     .add("message", std::move(message))
                     .done());
    };
    ev.on_finish = [this, gen](job_result r) {
        if (live(gen)) finished(gen, std::move(r));
    };
    return ev;
}

void job_runner::arm_timeout(job& j) {
    auto ms = j.ctx->timeout_ms();
    if (ms <= 0) return;
    if (!j.timeout) j.timeout = std::make_unique<net::steady_timer>(io_);
    j.timeout->expires_after(std::chrono::milliseconds(ms));
    j.timeout->async_wait([this, gen = j.generation](const boost::system::error_code& ec) {
        auto* live_job = live(gen);
        if (ec || !live_job || live_job->ctx->finished()) return;
        live_job->stop = stop_kind::timed_out;
        live_job->ctx->request_stop(timeout_grace_ms);
    });
}

bool job_runner::is_running(const std::string& job_id, int attempt) const {
    return jobs_.count(core::job_key_view(job_id, attempt)) > 0;
}

bool job_runner::cancel(const std::string& job_id, const std::string& reason, std::int64_t grace_ms) {
    bool any = false;
    for (auto it = jobs_.lower_bound(core::job_key_view(job_id, 0)); it != jobs_.end() && it->first.first == job_id;
         ++it) {
        auto& j = *slot_jobs_[it->second];
        any = true;
        if (j.stop == stop_kind::none) {
            j.stop = stop_kind::cancelled;
            j.stop_reason = reason;
        }
        j.ctx->request_stop(grace_ms < 0 ? default_cancel_grace_ms : grace_ms);
    }
    return any;
}

void job_runner::abandon_all(std::int64_t grace_ms) {
    draining_ = true;
    for (const auto& [k, slot] : jobs_) {
        auto& j = *slot_jobs_[slot];
        j.abandoned = true;
        j.ctx->request_stop(grace_ms);
    }
}

std::vector<std::pair<std::string, int>> job_runner::running() const {
    std::vector<std::pair<std::string, int>> out;
    out.reserve(jobs_.size());
    for (const auto& [k, slot] : jobs_) out.push_back(k);
    return out;
}

void job_runner::finished(std::uint64_t gen, job_result r) {
    auto& j = *live(gen);
    jobs_.erase(j.where);
    if (j.timeout) j.timeout->cancel();
    core::json message;
    if (!j.abandoned) message = result_message(j, std::move(r));
    const bool report = !j.abandoned;
    // Free the slot for the next job; the timer object stays for reuse.
    j.ctx.reset();
    j.generation = 0;
    j.seq = 0;
    j.stop = stop_kind::none;
    j.stop_reason.clear();
    j.abandoned = false;
    j.mask = {};
    free_slots_.push_back(static_cast<std::uint32_t>(gen & slot_mask));
    if (report) cb_.on_result(std::move(message));
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
    if (!j.mask.empty()) {  // before the outbox: a secret is never stored on the agent either
        j.mask.apply(r.output);
        j.mask.apply(r.error);
    }
    return message_builder("result")
        .add("job_id", req.job_id)
        .add("attempt", req.attempt)
        .add("status", to_string(r.status))
        .add("exit_code", r.exit_code ? core::json(*r.exit_code) : core::json(nullptr))
        .add("output", std::move(r.output))
        .add("error", std::move(r.error))
        .done();
}

}  // namespace orbitmesh::engine::agent
