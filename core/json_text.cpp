#include "core/json_text.hpp"

#include <charconv>

namespace orbitmesh::core {

namespace {

// Printable ASCII other than the two characters JSON escapes: copied as they are. Anything
// else (controls, non-ASCII, invalid UTF-8) goes through nlohmann's escaper so the text is
// the same as dump() would print.
bool plain(std::string_view s) noexcept {
    for (unsigned char c : s)
        if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') return false;
    return true;
}

}  // namespace

void json_text::separate() {
    if (!first_) out_ += ',';
    first_ = false;
}

json_text& json_text::str(std::string_view s) {
    separate();
    if (plain(s)) {
        out_ += '"';
        out_ += s;
        out_ += '"';
    } else {
        out_ += json(std::string(s)).dump(-1, ' ', false, json::error_handler_t::replace);
    }
    return *this;
}

json_text& json_text::num(std::int64_t v) {
    separate();
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, end);
    return *this;
}

json_text& json_text::boolean(bool v) {
    separate();
    out_ += v ? "true" : "false";
    return *this;
}

json_text& json_text::null() {
    separate();
    out_ += "null";
    return *this;
}

json_text& json_text::value(const json& v) {
    if (v.is_string()) return str(v.get_ref<const std::string&>());
    if (v.is_null()) return null();
    if (v.is_number_integer() && !v.is_number_unsigned()) return num(v.get<std::int64_t>());
    separate();
    out_ += v.dump(-1, ' ', false, json::error_handler_t::replace);
    return *this;
}

json_text& json_text::begin_object() {
    separate();
    out_ += '{';
    first_ = true;
    return *this;
}

json_text& json_text::end_object() {
    out_ += '}';
    first_ = false;
    return *this;
}

json_text& json_text::begin_array() {
    separate();
    out_ += '[';
    first_ = true;
    return *this;
}

json_text& json_text::end_array() {
    out_ += ']';
    first_ = false;
    return *this;
}

json_text& json_text::key(std::string_view k) {
    str(k);
    out_ += ':';
    first_ = true;  // the value follows the colon, no comma
    return *this;
}

}  // namespace orbitmesh::core
