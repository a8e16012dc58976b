#include "core/protocol.hpp"

#include <array>
#include <vector>

namespace orbitmesh::core::protocol {

namespace {

enum class kind { string, integer, number, object, array, any };

struct field {
    std::string_view name;
    kind type;
};

struct message_rule {
    std::string_view type;
    std::vector<field> fields;
};

const std::vector<message_rule>& rules() {
    static const std::vector<message_rule> r = {
        {msg::hello, {{"protocol", kind::integer}, {"agent_id", kind::string}, {"name", kind::string},
                      {"tags", kind::object}, {"capabilities", kind::array}, {"concurrency", kind::integer},
                      {"version", kind::string}, {"running", kind::array}}},
        {msg::welcome, {{"session", kind::string}, {"heartbeat_ms", kind::integer}, {"server_time", kind::integer}}},
        {msg::heartbeat, {{"load", kind::object}}},
        {msg::assign, {{"job_id", kind::string}, {"attempt", kind::integer}, {"command", kind::string}}},
        {msg::ack, {{"job_id", kind::string}, {"attempt", kind::integer}}},
        {msg::nack, {{"job_id", kind::string}, {"attempt", kind::integer}, {"reason", kind::string}}},
        {msg::progress, {{"job_id", kind::string}, {"attempt", kind::integer}, {"percent", kind::number}}},
        {msg::output, {{"job_id", kind::string}, {"attempt", kind::integer}, {"seq", kind::integer},
                       {"stream", kind::string}, {"data", kind::any}}},
        {msg::result, {{"job_id", kind::string}, {"attempt", kind::integer}, {"status", kind::string}}},
        {msg::result_ack, {{"job_id", kind::string}, {"attempt", kind::integer}}},
        {msg::cancel, {{"job_id", kind::string}}},
        {msg::invoke, {{"call_id", kind::string}, {"method", kind::string}}},
        {msg::reply, {{"call_id", kind::string}}},
        {msg::twin_desired, {{"version", kind::integer}, {"desired", kind::object}}},
        {msg::twin_reported, {{"version", kind::integer}, {"reported", kind::object}}},
    };
    return r;
}

bool has_type(const json& v, kind k) {
    switch (k) {
    case kind::string: return v.is_string();
    case kind::integer: return v.is_number_integer();
    case kind::number: return v.is_number();
    case kind::object: return v.is_object();
    case kind::array: return v.is_array();
    case kind::any: return true;
    }
    return false;
}

std::string_view kind_name(kind k) {
    switch (k) {
    case kind::string: return "a string";
    case kind::integer: return "an integer";
    case kind::number: return "a number";
    case kind::object: return "a map";
    case kind::array: return "an array";
    case kind::any: return "a value";
    }
    return "a value";
}

}  // namespace

std::optional<std::string> check_message(const json& m) {
    if (!m.is_object()) return "message is not a map";
    auto t = m.find("t");
    if (t == m.end() || !t->is_string()) return "message has no string field \"t\"";
    const auto& type = t->get_ref<const std::string&>();
    for (const auto& rule : rules()) {
        if (rule.type != type) continue;
        for (const auto& f : rule.fields) {
            auto it = m.find(f.name);
            if (it == m.end()) return type + " is missing field \"" + std::string(f.name) + "\"";
            if (!has_type(*it, f.type))
                return type + " field \"" + std::string(f.name) + "\" must be " + std::string(kind_name(f.type));
        }
        return std::nullopt;
    }
    return "unknown message type \"" + type.substr(0, 64) + "\"";
}

}  // namespace orbitmesh::core::protocol
