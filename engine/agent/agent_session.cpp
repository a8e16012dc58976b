#include "engine/agent/agent_session.hpp"

#include <set>

#include "core/job.hpp"
#include "core/protocol.hpp"
#include "engine/agent/agent_log.hpp"
#include "engine/agent/io_post.hpp"
#include "engine/agent/message_builder.hpp"
#include "engine/agent/system_facts.hpp"
#include "transport/asio.hpp"

namespace orbitmesh::engine::agent {

namespace msg = core::protocol::msg;

namespace {

/// Moves a string field out of `m` (the message is not used afterwards).
std::string take_string(core::json& m, const char* name) {
    auto it = m.find(name);
    return it != m.end() && it->is_string() ? std::move(it->get_ref<std::string&>()) : std::string();
}

template <class T>
T number_field(const core::json& m, const char* name, T fallback) {
    auto it = m.find(name);
    return it != m.end() && it->is_number() ? it->get<T>() : fallback;
}

job_request request_from(core::json& m) {
    job_request r;
    r.job_id = take_string(m, "job_id");
    r.attempt = number_field<int>(m, "attempt", 1);
    r.idempotency_key = take_string(m, "idempotency_key");
    r.command = take_string(m, "command");
    if (auto it = m.find("payload"); it != m.end()) r.payload = std::move(*it);
    r.mode = take_string(m, "mode");
    r.timeout_ms = number_field<std::int64_t>(m, "timeout_ms", 0);
    r.trace = take_string(m, "trace");
    if (auto it = m.find("secrets"); it != m.end() && it->is_object())
        for (auto& [name, value] : it->items())
            if (value.is_string()) r.secrets.emplace(name, std::move(value.get_ref<std::string&>()));
    if (auto it = m.find("limits"); it != m.end()) r.limits = std::move(*it);
    return r;
}

core::json job_ref(const std::string& job_id, int attempt) {
    core::json ref(core::json::value_t::object);
    auto& o = ref.get_ref<core::json::object_t&>();
    o.emplace("job_id", job_id);
    o.emplace("attempt", attempt);
    return ref;
}

}  // namespace

struct agent_session::timers {
    explicit timers(net::io_context& io) : ack_hold(io) {}
    net::steady_timer ack_hold;
};

agent_session::agent_session(boost::asio::io_context& io, boost::asio::thread_pool& blocking,
                             const handler_registry& handlers, outbox_writer& outbox, agent_profile profile,
                             send_fn send)
    : io_(io),
      outbox_(outbox),
      profile_(std::move(profile)),
      send_(std::move(send)),
      handler_names_(handlers.names()),
      runner_(io, blocking, handlers, profile_.concurrency,
              job_runner::callbacks{[this](core::json m) { on_job_message(std::move(m)); },
                                    [this](core::json r) { on_result(std::move(r)); }}),
      timers_(std::make_unique<timers>(io)) {}

agent_session::~agent_session() = default;

void agent_session::load_outbox() {
    for (auto& e : outbox_.load_pending()) {
        output_.restore(e.outputs);
        results_[{e.job_id, e.attempt}] = {std::move(e.result), true};
    }
    if (!results_.empty())
        log_line(std::to_string(results_.size()) + " result(s) from an earlier run wait in the outbox");
}

core::json agent_session::hello() const {
    std::set<key> running;
    for (auto& k : runner_.running()) running.insert(k);
    for (const auto& [k, r] : results_) running.insert(k);
    auto list = core::json::array();
    for (const auto& [job_id, attempt] : running) list.push_back(job_ref(job_id, attempt));
    return {{"t", msg::hello},
            {"protocol", core::protocol::version},
            {"agent_id", profile_.agent_id},
            {"name", profile_.name},
            {"tags", profile_.tags},
            {"capabilities", profile_.capabilities},
            {"handlers", handler_names_},
            {"concurrency", runner_.slots()},
            {"version", profile_.version},
            {"running", std::move(list)}};
}

core::json agent_session::heartbeat() const {
    return {{"t", msg::heartbeat},
            {"load",
             {{"cpu", cpu_load()}, {"mem", memory_used_fraction()}, {"running", runner_.running_count()}}}};
}

void agent_session::on_welcome() {
    report_twin();  // its facts, each time it registers (agent_twin.cpp)
    // Output first (the hub takes output only for an attempt it still has in flight), then the
    // results. Lines the hub already has are dropped there by their seq.
    output_.for_each([this](const std::string&, int, const std::vector<core::json>& messages) {
        for (const auto& m : messages) send_(m);
    });
    for (auto& [k, r] : results_) {
        if (!r.stored) continue;
        if (r.ack_held) {
            r.ack_held = false;
            send_ack(k.first, k.second);
        }
        send_(r.message);
    }
}

void agent_session::on_message(core::json m) {
    auto it = m.find("t");
    if (it == m.end() || !it->is_string()) return log_verbose("ignoring a message without a type from the hub");
    const auto& t = it->get_ref<const std::string&>();
    if (t == msg::assign) return on_assign(m);
    if (t == msg::result_ack) return on_result_ack(m);
    if (t == msg::cancel) return on_cancel(m);
    if (t == msg::invoke) return on_invoke(m);
    if (t == msg::twin_desired) return on_twin_desired(m);
    log_verbose("ignoring a \"" + t + "\" message from the hub");
}

void agent_session::on_assign(core::json& m) {
    if (auto id = m.find("job_id"); id == m.end() || !id->is_string() || id->get_ref<const std::string&>().empty())
        return log_line("ignoring an assign without a job_id: " + m.dump());
    auto req = request_from(m);
    // An attempt this agent already finished is answered from the outbox, never run again.
    auto it = results_.lower_bound(core::job_key_view(req.job_id, req.attempt));
    if (it != results_.end() && it->first.second == req.attempt && it->first.first == req.job_id) {
        it->second.ack_held = false;
        send_ack(req.job_id, req.attempt);
        if (it->second.stored) send_(it->second.message);
        return;
    }
    key k(req.job_id, req.attempt);
    bool finished = false;
    auto a = runner_.start(std::move(req), &finished);
    // start() never touches results_ (a job's end is always posted), so `it` is still a good hint.
    if (a == job_runner::admission::started && finished) return hold_ack(it, std::move(k));
    if (a == job_runner::admission::started || a == job_runner::admission::already_running)
        return send_ack(k.first, k.second);
    // Refused: start() did not take `req`.
    auto reason = a == job_runner::admission::unknown_command ? "unknown command: " + req.command
                                                              : std::string(to_string(a));
    send_(message_builder(msg::nack).add("job_id", req.job_id).add("attempt", req.attempt).add("reason", reason).done());
}

void agent_session::send_ack(const std::string& job_id, int attempt) {
    send_(message_builder(msg::ack).add("job_id", job_id).add("attempt", attempt).done());
}

/// A job that finished inside start() (echo and other in-process handlers) is acked together
/// with its result: both ride in one frame instead of an ack frame now and a result frame after
/// the outbox commit. A slow disk must not hold the ack near the hub's ack timeout, so whatever
/// is still held after max_ack_hold_ms goes out alone.
void agent_session::hold_ack(result_map::iterator hint, key k) {
    results_.emplace_hint(hint, std::move(k), held_result{})->second.ack_held = true;
    if (ack_timer_armed_) return;
    ack_timer_armed_ = true;
    timers_->ack_hold.expires_after(std::chrono::milliseconds(max_ack_hold_ms));
    timers_->ack_hold.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) release_held_acks();
    });
}

void agent_session::release_held_acks() {
    ack_timer_armed_ = false;
    for (auto& [k, r] : results_) {
        if (!r.ack_held) continue;
        r.ack_held = false;
        send_ack(k.first, k.second);
    }
}

void agent_session::on_cancel(const core::json& m) {
    auto job_id = core::string_at(m, "job_id");
    auto reason = core::string_at(m, "reason");
    auto grace = number_field<std::int64_t>(m, "grace_ms", job_runner::default_cancel_grace_ms);
    if (!runner_.cancel(job_id, reason, grace))
        log_verbose("cancel for job " + job_id + ", which does not run here");
}

void agent_session::on_result_ack(const core::json& m) {
    auto id = m.find("job_id");
    if (id == m.end() || !id->is_string()) return;
    auto attempt = number_field<int>(m, "attempt", 0);
    // A `rejected` ack (stale attempt) is dropped all the same: the hub will never want it.
    auto it = results_.find(core::job_key_view(id->get_ref<const std::string&>(), attempt));
    if (it == results_.end()) return;
    output_.drop(it->first.first, attempt);
    auto node = results_.extract(it);
    outbox_.remove(std::move(node.key().first), attempt);
}

void agent_session::on_job_message(core::json m) {
    output_.add(m);  // kept until the attempt's result is acknowledged
    send_(std::move(m));
}

void agent_session::on_invoke(const core::json& m) {
    core::json reply{{"t", msg::reply},
                     {"call_id", m.contains("call_id") ? m["call_id"] : core::json(nullptr)}};
    auto method = core::canonical_command(core::string_at(m, "method"));
    if (method == "ping")
        reply["value"] = "pong";
    else if (method == "system.info")
        reply["value"] = system_info(profile_.disk_path);
    else if (method == "system.health")
        reply["value"] = system_health(profile_.disk_path);
    else
        reply["error"] = "unknown method: " + core::string_at(m, "method");
    send_(std::move(reply));
}

void agent_session::on_result(core::json result) {
    const auto& job_id = result["job_id"].get_ref<const std::string&>();
    const int attempt = result["attempt"].get<int>();
    auto it = results_.lower_bound(core::job_key_view(job_id, attempt));
    if (it == results_.end() || it->first.second != attempt || it->first.first != job_id) {
        it = results_.emplace_hint(it, key(job_id, attempt), held_result{});
    } else {
        it->second.message = nullptr;  // keeps a held ack
        it->second.stored = false;
    }
    // Durable first, then sent: a crash in between resends it on the next start. Everything that
    // finishes in this io turn goes to the outbox together (one group, one fsync).
    to_store_.push_back({it->first.first, attempt, std::move(result), output_.messages(job_id, attempt)});
    if (store_posted_) return;
    store_posted_ = true;
    post_to(io_, [this] { store_results(); });
}

void agent_session::store_results() {
    store_posted_ = false;
    auto batch = std::move(to_store_);
    to_store_.clear();
    outbox_.put(std::move(batch), [this](std::vector<store::outbox::entry> entries, const std::string& error) {
        on_stored(std::move(entries), error);
    });
}

void agent_session::on_stored(std::vector<store::outbox::entry> entries, const std::string& error) {
    if (!error.empty() && !entries.empty())
        log_line("cannot store the result of job " + entries.front().job_id +
                 (entries.size() > 1 ? " and " + std::to_string(entries.size() - 1) + " more" : std::string()) +
                 " in the outbox (sending anyway): " + error);
    for (auto& e : entries) {
        auto it = results_.find(core::job_key_view(e.job_id, e.attempt));
        if (it == results_.end()) continue;
        it->second.message = std::move(e.result);
        it->second.stored = true;
        if (it->second.ack_held) {
            it->second.ack_held = false;
            send_ack(it->first.first, it->first.second);
        }
        send_(it->second.message);
    }
}

}  // namespace orbitmesh::engine::agent
