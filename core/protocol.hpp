#pragma once
#include <string_view>

namespace orbitmesh::core::protocol {

/// Version carried in `hello.protocol`; the hub accepts 1..version.
inline constexpr int version = 1;

/// WebSocket subprotocols: msgpack binary frames (default) or JSON text frames.
inline constexpr std::string_view subprotocol_msgpack = "orbitmesh.msgpack";
inline constexpr std::string_view subprotocol_json = "orbitmesh.json";

/// Close codes (RFC 6455) used by hub and agent.
inline constexpr int close_normal = 1000;
inline constexpr int close_going_away = 1001;
inline constexpr int close_unsupported = 1003;  // text frame on a msgpack connection, unknown type
inline constexpr int close_invalid = 1007;      // undecodable frame, not a map, missing fields
inline constexpr int close_policy = 1008;       // frame before hello, rejected agent
inline constexpr int close_too_big = 1009;
inline constexpr int close_internal = 1011;     // a bug on the hub while handling a message

/// Message type names (the `t` field), SPEC §2.
namespace msg {
inline constexpr std::string_view hello = "hello";
inline constexpr std::string_view welcome = "welcome";
inline constexpr std::string_view heartbeat = "heartbeat";
inline constexpr std::string_view assign = "assign";
inline constexpr std::string_view ack = "ack";
inline constexpr std::string_view nack = "nack";
inline constexpr std::string_view progress = "progress";
inline constexpr std::string_view output = "output";
inline constexpr std::string_view result = "result";
inline constexpr std::string_view result_ack = "result_ack";
inline constexpr std::string_view cancel = "cancel";
inline constexpr std::string_view invoke = "invoke";
inline constexpr std::string_view reply = "reply";
inline constexpr std::string_view twin_desired = "twin_desired";
inline constexpr std::string_view twin_reported = "twin_reported";
}  // namespace msg

}  // namespace orbitmesh::core::protocol
