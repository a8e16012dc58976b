#include "core/job.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include "core/clock.hpp"
#include "core/duration.hpp"
#include "core/error.hpp"
#include "core/field_reader.hpp"
#include "core/traceparent.hpp"
#include "core/secret_mask.hpp"
#include "core/workflow_suggest.hpp"

namespace orbitmesh::core {

namespace {

constexpr std::array<std::pair<job_state, std::string_view>, 8> state_names{{
    {job_state::pending, "pending"},
    {job_state::assigned, "assigned"},
    {job_state::running, "running"},
    {job_state::succeeded, "succeeded"},
    {job_state::failed, "failed"},
    {job_state::cancelled, "cancelled"},
    {job_state::timed_out, "timed_out"},
    {job_state::dead, "dead"},
}};

constexpr std::array<std::pair<job_mode, std::string_view>, 4> mode_names{{
    {job_mode::request_response, "request_response"},
    {job_mode::fire_and_forget, "fire_and_forget"},
    {job_mode::streaming, "streaming"},
    {job_mode::long_running, "long_running"},
}};

constexpr std::array<std::pair<agent_lost_policy, std::string_view>, 3> policy_names{{
    {agent_lost_policy::reassign, "reassign"},
    {agent_lost_policy::wait, "wait"},
    {agent_lost_policy::fail, "fail"},
}};

template <typename E, std::size_t N>
std::string_view name_of(const std::array<std::pair<E, std::string_view>, N>& table, E v) {
    for (const auto& [value, name] : table)
        if (value == v) return name;
    return "unknown";
}

template <typename E, std::size_t N>
std::optional<E> value_of(const std::array<std::pair<E, std::string_view>, N>& table, std::string_view s) {
    for (const auto& [value, name] : table)
        if (name == s) return value;
    return std::nullopt;
}

[[noreturn]] void bad(const std::string& msg) { throw error(error_kind::invalid_input, msg); }

/// Reads a duration field given as text ("30s") or as a `<name>_ms` number.
std::int64_t read_duration(field_reader& r, const std::string& key, std::int64_t fallback) {
    if (auto ms = r.maybe_number(key + "_ms", 0, 1e15)) return static_cast<std::int64_t>(*ms);
    auto text = r.maybe_text(key);
    if (!text) {
        if (r.has(key)) r.fail(key, "must be a duration such as \"30s\"");
        return fallback;
    }
    return parse_duration_or_throw(*text, "job field \"" + r.path_of(key) + "\"");
}

std::string iso_or_null_time(std::int64_t ms) { return format_time(ms); }

}  // namespace

std::string_view to_string(job_state s) noexcept { return name_of(state_names, s); }
std::optional<job_state> parse_job_state(std::string_view s) noexcept { return value_of(state_names, s); }
bool is_terminal(job_state s) noexcept { return s >= job_state::succeeded; }

std::string_view to_string(job_mode m) noexcept { return name_of(mode_names, m); }
std::optional<job_mode> parse_job_mode(std::string_view s) noexcept { return value_of(mode_names, s); }

std::string_view to_string(agent_lost_policy p) noexcept { return name_of(policy_names, p); }
std::optional<agent_lost_policy> parse_agent_lost_policy(std::string_view s) noexcept {
    return value_of(policy_names, s);
}

std::string canonical_command(std::string_view name) {
    std::string s(name);
    if (s.rfind("orbit:", 0) == 0) s.erase(0, 6);
    for (char& c : s)
        if (c == ':') c = '.';
    return s;
}

void validate(job_spec& spec) {
    spec.command = canonical_command(spec.command);
    if (spec.command.empty()) bad("job has no command (give a handler name such as shell, exec or echo)");
    if (spec.command.size() > 128) bad("job command name is longer than 128 characters");
    if (spec.timeout_ms < 0) bad("job timeout must not be negative");
    if (spec.pending_timeout_ms < 0) bad("job pending_timeout must not be negative");
    if (spec.retries.max < 0 || spec.retries.max > 1000) bad("job retries must be between 0 and 1000");
    if (spec.retries.backoff_ms < 0 || spec.retries.max_delay_ms < 0) bad("job retry delays must not be negative");
    if (spec.idempotency_key.size() > 512) bad("idempotency key is longer than 512 characters");
    if (spec.secrets.size() > max_secrets_per_job)
        bad("job names more than " + std::to_string(max_secrets_per_job) + " secrets");
    if (!spec.trace.empty() && !parse_traceparent(spec.trace))
        bad("job trace \"" + spec.trace.substr(0, 80) +
            "\" is not a W3C traceparent (write 00-<32 hex trace id>-<16 hex span id>-<2 hex flags>, lower case)");
    for (const auto& name : spec.secrets)
        if (!is_secret_name(name))
            bad("secret name \"" + name + "\" is not usable as an environment variable (use letters, digits and _, "
                "not starting with a digit, at most 128 characters)");
}

json to_json(const job_spec& s) {
    json target = {{"agent", s.target.agent}, {"capabilities", s.target.capabilities}, {"tags", s.target.tags}};
    json j = {
        {"command", s.command},
        {"payload", s.payload},
        {"target", std::move(target)},
        {"priority", s.priority},
        {"timeout_ms", s.timeout_ms},
        {"retries", {{"max", s.retries.max}, {"backoff_ms", s.retries.backoff_ms}, {"max_delay_ms", s.retries.max_delay_ms}}},
        {"idempotency_key", s.idempotency_key},
        {"mode", to_string(s.mode)},
        {"on_agent_lost", to_string(s.on_agent_lost)},
    };
    if (!s.trace.empty()) j["trace"] = s.trace;
    if (!s.secrets.empty()) j["secrets"] = s.secrets;
    if (!s.limits.empty()) j["limits"] = to_json(s.limits);
    if (s.pending_timeout_ms > 0) j["pending_timeout_ms"] = s.pending_timeout_ms;
    return j;
}

namespace {

void read_target(field_reader t, job_target& out, bool refuse_unknown) {
    if (refuse_unknown) t.track_reads();
    out.agent = t.maybe_text("agent").value_or(std::string{});
    if (auto caps = t.maybe_strings("capabilities")) out.capabilities = std::move(*caps);
    if (auto tags = t.maybe_string_map("tags")) out.tags = std::move(*tags);
    if (refuse_unknown) t.refuse_unread();
}

void read_retries(field_reader& j, retry_policy& r, bool refuse_unknown) {
    const json* v = j.get("retries");
    if (!v) return;
    if (!v->is_object()) {
        r.max = static_cast<int>(j.integer("retries", 0, field_reader::int_max));  // a count
        return;
    }
    auto retries = j.object("retries");
    if (refuse_unknown) retries.track_reads();
    r.max = static_cast<int>(retries.maybe_integer("max", 0, field_reader::int_max).value_or(r.max));
    r.backoff_ms = read_duration(retries, "backoff", r.backoff_ms);
    r.max_delay_ms = read_duration(retries, "max_delay", r.max_delay_ms);
    if (refuse_unknown) retries.refuse_unread();
}

}  // namespace

job_spec job_spec_from_json(const json& j, std::string_view what, bool refuse_unknown) {
    field_reader r(j, what, error_kind::invalid_input);
    if (refuse_unknown) r.track_reads();
    job_spec s;
    s.command = r.maybe_text("command").value_or(std::string{});
    s.payload = r.value("payload");
    if (auto t = r.maybe_object("target")) read_target(std::move(*t), s.target, refuse_unknown);
    s.priority = static_cast<int>(r.maybe_integer("priority", -field_reader::int_max, field_reader::int_max).value_or(0));
    s.timeout_ms = read_duration(r, "timeout", 0);
    s.pending_timeout_ms = read_duration(r, "pending_timeout", 0);
    read_retries(r, s.retries, refuse_unknown);
    s.idempotency_key = r.maybe_text("idempotency_key").value_or(std::string{});
    s.trace = r.maybe_text("trace").value_or(std::string{});
    if (auto tp = r.maybe_text("traceparent"); tp && s.trace.empty()) s.trace = *tp;  // the W3C header's name
    if (auto names = r.maybe_strings("secrets")) s.secrets = std::move(*names);
    if (auto l = r.maybe_object("limits")) s.limits = read_job_limits(std::move(*l));
    if (auto mode = r.maybe_text("mode")) {
        auto m = parse_job_mode(*mode);
        if (!m) bad("unknown job mode \"" + *mode + "\" (use request_response, fire_and_forget, streaming or long_running)");
        s.mode = *m;
    }
    if (auto policy = r.maybe_text("on_agent_lost")) {
        auto p = parse_agent_lost_policy(*policy);
        if (!p) bad("unknown on_agent_lost \"" + *policy + "\" (use reassign, wait or fail)");
        s.on_agent_lost = *p;
    }
    if (refuse_unknown) r.refuse_unread();
    validate(s);
    return s;
}

job_spec job_spec_from_request(const json& j, std::string_view what) { return job_spec_from_json(j, what, true); }

json to_json(const job_record& r) {
    json j = to_json(r.spec);
    j["id"] = r.id;
    j["state"] = to_string(r.state);
    j["attempt"] = r.attempt;
    j["retries_used"] = r.retries_used;
    j["reassigns"] = r.reassigns;
    j["agent"] = r.agent_id.empty() ? json() : json{{"id", r.agent_id}, {"name", r.agent_name}};
    j["exit_code"] = r.exit_code ? json(*r.exit_code) : json();
    j["output"] = r.output;
    j["error"] = r.error;
    j["progress"] = r.progress_percent < 0 ? json()
                                           : json{{"percent", r.progress_percent}, {"message", r.progress_message}};
    j["created_at"] = iso_or_null_time(r.created_ms);
    j["updated_at"] = iso_or_null_time(r.updated_ms);
    j["started_at"] = iso_or_null_time(r.started_ms);
    j["finished_at"] = iso_or_null_time(r.finished_ms);
    // Raw numbers keep the record loadable without parsing text times.
    j["times"] = {{"created", r.created_ms}, {"assigned", r.assigned_ms}, {"updated", r.updated_ms}, {"started", r.started_ms},
                  {"finished", r.finished_ms}, {"not_before", r.not_before_ms}};
    j["cancel_requested"] = r.cancel_requested;
    j["version"] = r.version;
    return j;
}

job_record job_record_from_json(const json& j) {
    job_record r;
    r.spec = job_spec_from_json(j);
    r.id = j.at("id").get<std::string>();
    r.state = parse_job_state(j.at("state").get<std::string>()).value_or(job_state::pending);
    r.attempt = j.value("attempt", 0);
    r.retries_used = j.value("retries_used", 0);
    r.reassigns = j.value("reassigns", 0);
    if (auto it = j.find("agent"); it != j.end() && it->is_object()) {
        r.agent_id = it->value("id", std::string{});
        r.agent_name = it->value("name", std::string{});
    }
    if (auto it = j.find("exit_code"); it != j.end() && it->is_number()) r.exit_code = it->get<int>();
    r.output = j.value("output", json());
    r.error = j.value("error", std::string{});
    if (auto it = j.find("progress"); it != j.end() && it->is_object()) {
        r.progress_percent = it->value("percent", -1.0);
        r.progress_message = it->value("message", std::string{});
    }
    if (auto it = j.find("times"); it != j.end() && it->is_object()) {
        r.created_ms = it->value("created", std::int64_t{0});
        r.updated_ms = it->value("updated", std::int64_t{0});
        r.assigned_ms = it->value("assigned", std::int64_t{0});
        r.started_ms = it->value("started", std::int64_t{0});
        r.finished_ms = it->value("finished", std::int64_t{0});
        r.not_before_ms = it->value("not_before", std::int64_t{0});
    }
    r.cancel_requested = j.value("cancel_requested", false);
    r.version = j.value("version", std::int64_t{0});
    return r;
}

}  // namespace orbitmesh::core
