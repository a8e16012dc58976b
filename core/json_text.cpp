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

std::size_t iso_time(std::int64_t ms, char (&buf)[24]) noexcept {
    if (ms <= 0) return 0;
    // Civil date from days since the epoch (H. Hinnant's algorithm): no gmtime_r and no
    // allocation. A record carries five times and replay renders hundreds of thousands of them.
    const std::int64_t secs = ms / 1000;
    std::int64_t days = secs / 86400;
    const auto in_day = static_cast<int>(secs % 86400);
    days += 719468;
    const std::int64_t era = days / 146097;
    const auto doe = static_cast<unsigned>(days - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned day = doy - (153 * mp + 2) / 5 + 1;
    const unsigned month = mp < 10 ? mp + 3 : mp - 9;
    const std::int64_t year = static_cast<std::int64_t>(yoe) + era * 400 + (month <= 2 ? 1 : 0);
    if (year < 0 || year > 9999) return 0;
    auto put = [&buf](int at, std::int64_t value, int width) {
        for (int i = width - 1; i >= 0; --i, value /= 10) buf[at + i] = static_cast<char>('0' + value % 10);
    };
    put(0, year, 4);
    buf[4] = '-';
    put(5, month, 2);
    buf[7] = '-';
    put(8, day, 2);
    buf[10] = 'T';
    put(11, in_day / 3600, 2);
    buf[13] = ':';
    put(14, in_day / 60 % 60, 2);
    buf[16] = ':';
    put(17, in_day % 60, 2);
    buf[19] = '.';
    put(20, ms % 1000, 3);
    buf[23] = 'Z';
    return 24;
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

json_text& json_text::time(std::int64_t ms) {
    separate();
    char buf[24];
    const auto n = iso_time(ms, buf);
    out_ += '"';
    out_.append(buf, n);
    out_ += '"';
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
