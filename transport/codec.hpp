#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/json.hpp"

namespace orbitmesh::transport {

/// Nesting allowed inside one frame (the array of messages counts as one level).
inline constexpr std::size_t default_max_depth = 64;

/// A frame that breaks the wire protocol; `close_code` is what the connection closes with
/// (1007 undecodable / not a map / no `t`). kind() is error_kind::protocol.
struct frame_error : core::error {
    frame_error(int code, const std::string& reason)
        : core::error(core::error_kind::protocol, reason), close_code(code) {}
    int close_code;
};

/// Decodes one WebSocket frame: a map (one message) or an array of maps (several, in order).
/// MessagePack unless `json_text`. Never recurses on input and allocates at most in proportion
/// to `bytes.size()`. Throws frame_error with a one-line reason. Thread-safe.
std::vector<core::json> decode_frame(std::string_view bytes, bool json_text,
                                     std::size_t max_depth = default_max_depth);

/// Encodes one message (MessagePack, or compact JSON with invalid UTF-8 replaced).
std::string encode_message(const core::json& msg, bool json_text);

/// Joins already-encoded messages into one frame: one message is sent as itself, several as an
/// array (a MessagePack array header or `[a,b]`), so batching costs no re-encoding.
std::string join_encoded(const std::vector<std::string>& encoded, bool json_text);

/// Encodes messages as one frame: a single message as the map itself, several as an array.
std::string encode_frame(const std::vector<core::json>& msgs, bool json_text);

}  // namespace orbitmesh::transport
