#pragma once
// The messages an agent sends the hub (SPEC §2), as typed values: parsed once, at the edge of the
// hub, so nothing behind it reads a field of the wrong type.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/json.hpp"

namespace orbitmesh::core::protocol {

/// A job the agent still runs or holds a result for (`hello.running[]`).
struct running_job {
    std::string job_id;
    int attempt = 0;
};

struct hello {
    int protocol = 0;  // 1..protocol::version is for the hub to decide
    std::string agent_id;  // 1..128 bytes
    std::string name;
    std::map<std::string, std::string> tags;
    std::vector<std::string> capabilities;
    std::optional<std::vector<std::string>> handlers;  // absent (older agents): accepts any command
    int concurrency = 1;
    std::string version;
    std::vector<running_job> running;
};

struct heartbeat {
    double cpu = 0;  // load average per core
    double mem = 0;  // fraction of memory in use
    int running = 0;
};

struct ack {
    std::string job_id;
    int attempt = 0;
};

struct nack {
    std::string job_id;
    int attempt = 0;
    std::string reason;  // busy | draining | unknown command ...
};

struct progress {
    std::string job_id;
    int attempt = 0;
    double percent = 0;  // 0..100
    std::string message;
};

struct output {
    std::string job_id;
    int attempt = 0;
    std::int64_t seq = 0;  // the agent's; the hub numbers lines itself
    std::string stream;    // stdout | stderr | data
    std::string data;      // a non-string value arrives as its JSON text
};

struct result {
    std::string job_id;
    int attempt = 0;
    std::string status;  // succeeded | failed | cancelled | timed_out (others: the hub says so)
    std::optional<int> exit_code;  // none: the handler could not run at all
    json output;
    std::string error;
};

struct reply {
    std::string call_id;
    json value;
    std::optional<std::string> error;  // a non-string error arrives as its JSON text
};

struct twin_reported {
    std::int64_t version = 0;
    json reported;
};

using agent_message = std::variant<hello, heartbeat, ack, nack, progress, output, result, reply, twin_reported>;

/// Parses one decoded agent message (a map with a string `t`), checking every field's type and
/// range, nested ones included. Throws core::error{protocol} whose one-line text names the field
/// (`heartbeat field "load.cpu" must be a number, got a string`): the hub closes that connection
/// with 1007 and that reason. Unknown fields are ignored so versions can mix. Thread-safe.
agent_message parse_agent_message(json&& m);

/// The `t` of a parsed message ("hello", "ack", ...), for logs.
std::string_view type_of(const agent_message& m) noexcept;

}  // namespace orbitmesh::core::protocol
