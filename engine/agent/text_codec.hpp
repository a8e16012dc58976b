#pragma once
#include <string>
#include <string_view>

namespace orbitmesh::engine::agent {

/// True when `s` is well-formed UTF-8 (so it can travel as a JSON string unchanged).
bool is_valid_utf8(std::string_view s) noexcept;
/// Standard base64 with padding.
std::string base64_encode(std::string_view bytes);
/// Decodes standard base64 (padding optional, whitespace ignored); false on any other byte.
bool base64_decode(std::string_view text, std::string& out);

}  // namespace orbitmesh::engine::agent
