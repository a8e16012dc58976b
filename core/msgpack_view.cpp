#include "core/msgpack_view.hpp"

#include <cstring>
#include <limits>

#include "core/error.hpp"

namespace orbitmesh::core {

namespace {

constexpr int max_depth = 256;  // deeper nesting is refused rather than recursed into

[[noreturn]] void malformed(const char* why) {
    throw error(error_kind::invalid_input, std::string("malformed MessagePack: ") + why);
}

std::uint64_t big_endian(const std::uint8_t* p, std::size_t n) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v = (v << 8) | p[i];
    return v;
}

}  // namespace

mp_value::mp_value(std::span<const std::uint8_t> data)
    : mp_value(data.data(), data.data() + data.size()) {}

mp_value::mp_value(const std::uint8_t* p, const std::uint8_t* end) : p_(p), end_(end), h_(decode_header(p, end)) {
    if (h_.size > static_cast<std::size_t>(end_ - p_)) malformed("truncated header");
}

mp_value::header mp_value::decode_header(const std::uint8_t* p, const std::uint8_t* end) {
    if (p == nullptr || p >= end) malformed("value past the end of the buffer");
    const std::uint8_t b = *p;
    const auto avail = static_cast<std::size_t>(end - p);
    auto need = [&](std::size_t n) {
        if (avail < 1 + n) malformed("truncated header");
        return big_endian(p + 1, n);
    };
    if (b <= 0x7f) return {kind::integer, b, 1};
    if (b >= 0xe0) return {kind::integer, static_cast<std::uint64_t>(static_cast<std::int8_t>(b)), 1, true};
    if (b <= 0x8f) return {kind::map, static_cast<std::uint64_t>(b & 0x0f), 1};
    if (b <= 0x9f) return {kind::array, static_cast<std::uint64_t>(b & 0x0f), 1};
    if (b <= 0xbf) return {kind::string, static_cast<std::uint64_t>(b & 0x1f), 1};
    switch (b) {
    case 0xc0: return {kind::nil, 0, 1};
    case 0xc2: return {kind::boolean, 0, 1};
    case 0xc3: return {kind::boolean, 1, 1};
    case 0xc4: return {kind::binary, need(1), 2};
    case 0xc5: return {kind::binary, need(2), 3};
    case 0xc6: return {kind::binary, need(4), 5};
    case 0xc7: return {kind::ext, need(1), 3};
    case 0xc8: return {kind::ext, need(2), 4};
    case 0xc9: return {kind::ext, need(4), 6};
    case 0xca: return {kind::floating, need(4), 5};
    case 0xcb: return {kind::floating, need(8), 9};
    case 0xcc: return {kind::integer, need(1), 2};
    case 0xcd: return {kind::integer, need(2), 3};
    case 0xce: return {kind::integer, need(4), 5};
    case 0xcf: return {kind::integer, need(8), 9};
    case 0xd0: return {kind::integer, static_cast<std::uint64_t>(static_cast<std::int8_t>(need(1))), 2, true};
    case 0xd1: return {kind::integer, static_cast<std::uint64_t>(static_cast<std::int16_t>(need(2))), 3, true};
    case 0xd2: return {kind::integer, static_cast<std::uint64_t>(static_cast<std::int32_t>(need(4))), 5, true};
    case 0xd3: return {kind::integer, need(8), 9, true};
    case 0xd4: return {kind::ext, 1, 2};
    case 0xd5: return {kind::ext, 2, 2};
    case 0xd6: return {kind::ext, 4, 2};
    case 0xd7: return {kind::ext, 8, 2};
    case 0xd8: return {kind::ext, 16, 2};
    case 0xd9: return {kind::string, need(1), 2};
    case 0xda: return {kind::string, need(2), 3};
    case 0xdb: return {kind::string, need(4), 5};
    case 0xdc: return {kind::array, need(2), 3};
    case 0xdd: return {kind::array, need(4), 5};
    case 0xde: return {kind::map, need(2), 3};
    case 0xdf: return {kind::map, need(4), 5};
    default: malformed("reserved type byte 0xc1");
    }
}

std::int64_t mp_value::as_int() const {
    const auto& h = h_;
    if (h.k == kind::floating) {
        const double d = as_double();
        if (d != static_cast<double>(static_cast<std::int64_t>(d))) malformed("a fraction where an integer belongs");
        return static_cast<std::int64_t>(d);
    }
    if (h.k != kind::integer) malformed("expected an integer");
    if (!h.negative && h.length > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        malformed("integer out of range");
    return static_cast<std::int64_t>(h.length);
}

double mp_value::as_double() const {
    const auto& h = h_;
    if (h.k == kind::integer) return h.negative ? static_cast<double>(static_cast<std::int64_t>(h.length))
                                                : static_cast<double>(h.length);
    if (h.k != kind::floating) malformed("expected a number");
    if (h.size == 5) {
        const auto bits = static_cast<std::uint32_t>(h.length);
        float f;
        std::memcpy(&f, &bits, sizeof f);
        return f;
    }
    double d;
    std::memcpy(&d, &h.length, sizeof d);
    return d;
}

bool mp_value::as_bool() const {
    const auto& h = h_;
    if (h.k != kind::boolean) malformed("expected a boolean");
    return h.length != 0;
}

std::string_view mp_value::as_string() const {
    const auto& h = h_;
    if (h.k != kind::string) malformed("expected a string");
    if (h.length > static_cast<std::uint64_t>(end_ - p_) - h.size) malformed("string past the end of the buffer");
    return {reinterpret_cast<const char*>(p_ + h.size), static_cast<std::size_t>(h.length)};
}

std::size_t mp_value::size() const {
    const auto& h = h_;
    if (h.k != kind::array && h.k != kind::map) malformed("expected an array or a map");
    return static_cast<std::size_t>(h.length);
}

const std::uint8_t* mp_value::after() const {
    if (stop_ != nullptr) return stop_;
    switch (h_.k) {
    case kind::string:
    case kind::binary:
    case kind::ext:
        if (h_.length > static_cast<std::uint64_t>(end_ - p_) - h_.size) malformed("value past the end of the buffer");
        return p_ + h_.size + h_.length;
    case kind::array:
    case kind::map: return stop_ = skip(p_, end_, 0);
    default: return p_ + h_.size;
    }
}

const std::uint8_t* mp_value::skip(const std::uint8_t* p, const std::uint8_t* end, int depth) {
    if (depth > max_depth) malformed("nested deeper than 256 levels");
    const auto h = mp_value(p, end).h_;
    const auto left = static_cast<std::uint64_t>(end - p) - h.size;
    switch (h.k) {
    case kind::string:
    case kind::binary:
    case kind::ext:
        if (h.length > left) malformed("value past the end of the buffer");
        return p + h.size + h.length;
    case kind::array:
    case kind::map: {
        const std::uint64_t n = h.k == kind::map ? h.length * 2 : h.length;
        if (n > left) malformed("container with more entries than bytes");
        const std::uint8_t* q = p + h.size;
        for (std::uint64_t i = 0; i < n; ++i) q = skip(q, end, depth + 1);
        return q;
    }
    default:
        return p + h.size;
    }
}

std::optional<mp_value> mp_value::find(std::string_view key) const {
    if (p_ == nullptr || h_.k != kind::map) return std::nullopt;
    const std::uint8_t* p = p_ + h_.size;
    for (std::uint64_t i = 0; i < h_.length; ++i) {
        mp_value k(p, end_);
        mp_value v(k.after(), end_);
        if (k.is_string() && k.as_string() == key) return v;
        p = v.after();
    }
    return std::nullopt;
}

std::span<const std::uint8_t> mp_value::raw() const {
    if (p_ == nullptr) return {};
    return {p_, static_cast<std::size_t>(after() - p_)};
}

json mp_value::to_json() const {
    const auto bytes = raw();
    try {
        return json::from_msgpack(bytes.begin(), bytes.end());
    } catch (const json::exception& e) {
        malformed(e.what());
    }
}

event to_event(const event_view& v) {
    event e;
    e.seq = v.seq;
    e.stream = std::string(v.stream);
    e.version = v.version;
    e.type = std::string(v.type);
    e.time_ms = v.time_ms;
    e.data = v.data.empty() ? json() : mp_value(v.data).to_json();
    return e;
}

}  // namespace orbitmesh::core
