#include "core/agent_messages.hpp"

#include "core/field_reader.hpp"
#include "core/protocol.hpp"

namespace orbitmesh::core::protocol {

namespace {

constexpr std::int64_t max_concurrency = 1'000'000;
constexpr double max_load = 1e9;

int attempt_of(field_reader& r) { return static_cast<int>(r.integer("attempt", 1, field_reader::int_max)); }

std::string bounded_text(field_reader& r, std::string_view key, std::size_t min, std::size_t max) {
    auto s = r.text(key);
    if (s.size() < min || s.size() > max)
        r.fail(key, "must be " + std::to_string(min) + " to " + std::to_string(max) + " bytes long, got " +
                        std::to_string(s.size()));
    return s;
}

hello parse_hello(field_reader& r) {
    hello h;
    h.protocol = static_cast<int>(r.integer("protocol", 0, field_reader::int_max));
    h.agent_id = bounded_text(r, "agent_id", 1, 128);
    h.name = bounded_text(r, "name", 0, 256);
    h.tags = r.string_map("tags");
    h.capabilities = r.strings("capabilities");
    h.handlers = r.maybe_strings("handlers");
    h.concurrency = static_cast<int>(r.integer("concurrency", 1, max_concurrency));
    h.version = r.text("version");
    for (auto& item : r.objects("running")) h.running.push_back({item.text("job_id"), attempt_of(item)});
    return h;
}

heartbeat parse_heartbeat(field_reader& r) {
    auto load = r.object("load");
    heartbeat b;
    b.cpu = load.maybe_number("cpu", 0, max_load).value_or(0);
    b.mem = load.maybe_number("mem", 0, max_load).value_or(0);
    b.running = static_cast<int>(load.maybe_integer("running", 0, field_reader::int_max).value_or(0));
    return b;
}

output parse_output(field_reader& r) {
    output o;
    o.job_id = r.text("job_id");
    o.attempt = attempt_of(r);
    o.seq = r.integer("seq", 0, std::numeric_limits<std::int64_t>::max());
    o.stream = r.text("stream");
    if (o.stream != "stdout" && o.stream != "stderr" && o.stream != "data")
        r.fail("stream", "must be stdout, stderr or data, got \"" + printable(o.stream, 16) + "\"");
    auto data = r.required_value("data");
    o.data = data.is_string() ? std::move(data.get_ref<std::string&>()) : data.dump(-1, ' ', false, json::error_handler_t::replace);
    return o;
}

result parse_result(field_reader& r) {
    result x;
    x.job_id = r.text("job_id");
    x.attempt = attempt_of(r);
    x.status = bounded_text(r, "status", 1, 64);
    if (auto code = r.maybe_integer("exit_code", std::numeric_limits<int>::min(), field_reader::int_max))
        x.exit_code = static_cast<int>(*code);
    x.output = r.value("output");
    x.error = r.maybe_text("error").value_or(std::string{});
    return x;
}

reply parse_reply(field_reader& r) {
    reply x;
    x.call_id = r.text("call_id");
    x.value = r.value("value");
    auto error = r.value("error");
    if (error.is_string()) x.error = std::move(error.get_ref<std::string&>());
    else if (!error.is_null()) x.error = error.dump(-1, ' ', false, json::error_handler_t::replace);
    return x;
}

twin_reported parse_twin_reported(field_reader& r) {
    twin_reported x;
    x.version = r.integer("version", 0, std::numeric_limits<std::int64_t>::max());
    r.object("reported");
    x.reported = r.value("reported");
    return x;
}

bool sent_by_hub(std::string_view t) {
    return t == msg::welcome || t == msg::assign || t == msg::result_ack || t == msg::cancel || t == msg::invoke ||
           t == msg::twin_desired;
}

}  // namespace

agent_message parse_agent_message(json&& m) {
    if (!m.is_object()) throw error(error_kind::protocol, "message is not a map");
    auto t = m.find("t");
    if (t == m.end() || !t->is_string()) throw error(error_kind::protocol, "message has no string field \"t\"");
    const std::string type = printable(t->get_ref<const std::string&>(), 64);  // errors name it: keep it printable
    field_reader r(m, type, error_kind::protocol);
    // Most frequent first: heartbeats, then the per-job messages.
    if (type == msg::heartbeat) return parse_heartbeat(r);
    if (type == msg::ack) return ack{r.text("job_id"), attempt_of(r)};
    if (type == msg::result) return parse_result(r);
    if (type == msg::output) return parse_output(r);
    if (type == msg::nack) return nack{r.text("job_id"), attempt_of(r), r.text("reason")};
    if (type == msg::progress)
        return progress{r.text("job_id"), attempt_of(r), r.number("percent", 0, 100),
                        r.maybe_text("message").value_or(std::string{})};
    if (type == msg::hello) return parse_hello(r);
    if (type == msg::reply) return parse_reply(r);
    if (type == msg::twin_reported) return parse_twin_reported(r);
    if (sent_by_hub(type)) throw error(error_kind::protocol, type + " is a hub-to-agent message; an agent may not send it");
    throw error(error_kind::protocol, "unknown message type \"" + type + "\"");
}

std::string_view type_of(const agent_message& m) noexcept {
    static constexpr std::string_view names[] = {msg::hello,  msg::heartbeat, msg::ack,   msg::nack,         msg::progress,
                                                 msg::output, msg::result,    msg::reply, msg::twin_reported};
    return names[m.index()];
}

}  // namespace orbitmesh::core::protocol
