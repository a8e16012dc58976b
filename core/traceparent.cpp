#include "core/traceparent.hpp"

#include <cstdint>
#include <random>

namespace orbitmesh::core {

namespace {

bool lower_hex(std::string_view s) {
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

bool all_zero(std::string_view s) { return s.find_first_not_of('0') == std::string_view::npos; }

std::string hex64(std::uint64_t v) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out(16, '0');
    for (int i = 15; i >= 0; --i, v >>= 4) out[static_cast<std::size_t>(i)] = digits[v & 0xf];
    return out;
}

std::uint64_t random64() {
    thread_local std::mt19937_64 gen{std::random_device{}()};
    std::uint64_t v = 0;
    while (v == 0) v = gen();
    return v;
}

}  // namespace

std::optional<traceparent> parse_traceparent(std::string_view t) {
    // version(2) - trace(32) - span(16) - flags(2) = 55 characters; later versions may add "-…".
    if (t.size() < 55 || t[2] != '-' || t[35] != '-' || t[52] != '-') return std::nullopt;
    auto version = t.substr(0, 2), trace = t.substr(3, 32), span = t.substr(36, 16), flags = t.substr(53, 2);
    if (!lower_hex(version) || version == "ff" || !lower_hex(trace) || !lower_hex(span) || !lower_hex(flags)) return std::nullopt;
    if (all_zero(trace) || all_zero(span)) return std::nullopt;
    if (t.size() > 55 && (version == "00" || t[55] != '-')) return std::nullopt;
    return traceparent{std::string(trace), std::string(span), std::string(flags)};
}

traceparent new_trace() { return {hex64(random64()) + hex64(random64()), hex64(random64()), "01"}; }

std::string span_id_for(std::string_view id) {
    std::uint64_t h = 1469598103934665603ull;  // FNV-1a 64
    for (unsigned char c : id) {
        h ^= c;
        h *= 1099511628211ull;
    }
    return hex64(h == 0 ? 1 : h);
}

traceparent child_of(const traceparent& parent, std::string_view job_id) {
    return {parent.trace_id, span_id_for(job_id), parent.flags};
}

traceparent run_trace(std::string_view run_id) {
    const std::string salted = "trace:" + std::string(run_id);
    return {span_id_for(run_id) + span_id_for(salted), span_id_for(run_id), "01"};
}

std::string job_traceparent(std::string_view parent_text, std::string_view job_id) {
    auto parent = parse_traceparent(parent_text);
    return parent ? child_of(*parent, job_id).text() : std::string{};
}

}  // namespace orbitmesh::core
