#include "engine/agent/agent_session.hpp"

#include <set>

#include "core/job.hpp"
#include "core/protocol.hpp"
#include "engine/agent/agent_log.hpp"
#include "engine/agent/system_facts.hpp"

namespace orbitmesh::engine::agent {

namespace msg = core::protocol::msg;

namespace {

std::string string_field(const core::json& m, const char* name) {
    auto it = m.find(name);
    return it != m.end() && it->is_string() ? it->get<std::string>() : std::string();
}

template <class T>
T number_field(const core::json& m, const char* name, T fallback) {
    auto it = m.find(name);
    return it != m.end() && it->is_number() ? it->get<T>() : fallback;
}

job_request request_from(const core::json& m) {
    job_request r;
    r.job_id = string_field(m, "job_id");
    r.attempt = number_field<int>(m, "attempt", 1);
    r.idempotency_key = string_field(m, "idempotency_key");
    r.command = string_field(m, "command");
    if (auto it = m.find("payload"); it != m.end()) r.payload = *it;
    r.mode = string_field(m, "mode");
    r.timeout_ms = number_field<std::int64_t>(m, "timeout_ms", 0);
    r.trace = string_field(m, "trace");
    return r;
}

core::json job_ref(const std::string& job_id, int attempt) {
    return {{"job_id", job_id}, {"attempt", attempt}};
}

}  // namespace

agent_session::agent_session(boost::asio::io_context& io, boost::asio::thread_pool& blocking,
                             const handler_registry& handlers, outbox_writer& outbox, agent_profile profile,
                             send_fn send)
    : outbox_(outbox),
      profile_(std::move(profile)),
      send_(std::move(send)),
      handler_names_(handlers.names()),
      runner_(io, blocking, handlers, profile_.concurrency,
              job_runner::callbacks{[this](core::json m) { send_(std::move(m)); },
                                    [this](core::json r) { on_result(std::move(r)); }}) {}

void agent_session::load_outbox() {
    for (auto& e : outbox_.load_pending()) results_[{e.job_id, e.attempt}] = {std::move(e.result), true};
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
    for (const auto& [k, r] : results_)
        if (r.stored) send_(r.message);
}

void agent_session::on_message(const core::json& m) {
    auto t = string_field(m, "t");
    if (t == msg::assign) return on_assign(m);
    if (t == msg::cancel) return on_cancel(m);
    if (t == msg::result_ack) return on_result_ack(m);
    if (t == msg::invoke) return on_invoke(m);
    log_verbose("ignoring a \"" + t + "\" message from the hub");
}

void agent_session::on_assign(const core::json& m) {
    auto req = request_from(m);
    if (req.job_id.empty()) return log_line("ignoring an assign without a job_id: " + m.dump());
    auto ack = [this, id = req.job_id, n = req.attempt] {
        send_({{"t", msg::ack}, {"job_id", id}, {"attempt", n}});
    };
    auto nack = [this, id = req.job_id, n = req.attempt](const std::string& reason) {
        send_({{"t", msg::nack}, {"job_id", id}, {"attempt", n}, {"reason", reason}});
    };
    // An attempt this agent already finished is answered from the outbox, never run again.
    if (auto it = results_.find({req.job_id, req.attempt}); it != results_.end()) {
        ack();
        if (it->second.stored) send_(it->second.message);
        return;
    }
    auto command = req.command;
    switch (auto a = runner_.start(std::move(req))) {
        case job_runner::admission::started:
        case job_runner::admission::already_running: return ack();
        case job_runner::admission::unknown_command: return nack("unknown command: " + command);
        default: return nack(std::string(to_string(a)));
    }
}

void agent_session::on_cancel(const core::json& m) {
    auto job_id = string_field(m, "job_id");
    auto reason = string_field(m, "reason");
    auto grace = number_field<std::int64_t>(m, "grace_ms", job_runner::default_cancel_grace_ms);
    if (!runner_.cancel(job_id, reason, grace))
        log_verbose("cancel for job " + job_id + ", which does not run here");
}

void agent_session::on_result_ack(const core::json& m) {
    auto job_id = string_field(m, "job_id");
    auto attempt = number_field<int>(m, "attempt", 0);
    // A `rejected` ack (stale attempt) is dropped all the same: the hub will never want it.
    if (results_.erase({job_id, attempt}) > 0) outbox_.remove(job_id, attempt);
}

void agent_session::on_invoke(const core::json& m) {
    core::json reply{{"t", msg::reply},
                     {"call_id", m.contains("call_id") ? m["call_id"] : core::json(nullptr)}};
    auto method = core::canonical_command(string_field(m, "method"));
    if (method == "ping")
        reply["value"] = "pong";
    else if (method == "system.info")
        reply["value"] = system_info(profile_.disk_path);
    else if (method == "system.health")
        reply["value"] = system_health(profile_.disk_path);
    else
        reply["error"] = "unknown method: " + string_field(m, "method");
    send_(std::move(reply));
}

void agent_session::on_result(core::json result) {
    key k{result["job_id"].get<std::string>(), result["attempt"].get<int>()};
    results_[k] = {result, false};
    // Durable first, then sent: a crash in between resends it on the next start.
    outbox_.put({k.first, k.second, std::move(result)}, [this, k](const std::string& error) {
        auto it = results_.find(k);
        if (it == results_.end()) return;
        if (!error.empty())
            log_line("cannot store the result of job " + k.first +
                     " in the outbox (sending it anyway): " + error);
        it->second.stored = true;
        send_(it->second.message);
    });
}

}  // namespace orbitmesh::engine::agent
