#include "core/duration.hpp"

#include <cctype>
#include <cstdio>

#include "core/error.hpp"

namespace orbitmesh::core {

namespace {

std::optional<std::int64_t> parse_clock_form(std::string_view t) {
    // HH:MM:SS (hours may exceed 24)
    std::int64_t parts[3] = {0, 0, 0};
    int idx = 0;
    std::size_t digits = 0;
    for (char c : t) {
        if (c == ':') {
            if (digits == 0 || ++idx > 2) return std::nullopt;
            digits = 0;
        } else if (std::isdigit(static_cast<unsigned char>(c))) {
            if (++digits > 9) return std::nullopt;
            parts[idx] = parts[idx] * 10 + (c - '0');
        } else {
            return std::nullopt;
        }
    }
    if (idx != 2 || digits == 0 || parts[1] >= 60 || parts[2] >= 60) return std::nullopt;
    return ((parts[0] * 60 + parts[1]) * 60 + parts[2]) * 1000;
}

std::optional<std::int64_t> unit_ms(std::string_view u) {
    if (u == "ms") return 1;
    if (u == "s") return 1000;
    if (u == "m") return 60'000;
    if (u == "h") return 3'600'000;
    if (u == "d") return 86'400'000;
    return std::nullopt;
}

}  // namespace

std::optional<std::int64_t> parse_duration(std::string_view t) {
    if (t.empty() || t.size() > 64) return std::nullopt;
    if (t.find(':') != std::string_view::npos) return parse_clock_form(t);
    std::int64_t total = 0;
    std::size_t i = 0;
    bool any = false;
    while (i < t.size()) {
        double value = 0;
        std::size_t start = i;
        while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) value = value * 10 + (t[i++] - '0');
        if (i < t.size() && t[i] == '.') {
            double scale = 0.1;
            ++i;
            while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) {
                value += (t[i++] - '0') * scale;
                scale /= 10;
            }
        }
        if (i == start || i - start > 12) return std::nullopt;
        std::size_t ustart = i;
        while (i < t.size() && std::isalpha(static_cast<unsigned char>(t[i]))) ++i;
        auto unit = unit_ms(t.substr(ustart, i - ustart));
        if (!unit) return std::nullopt;  // includes the bare-number case
        total += static_cast<std::int64_t>(value * static_cast<double>(*unit) + 0.5);
        any = true;
    }
    if (!any) return std::nullopt;
    return total;
}

std::int64_t parse_duration_or_throw(std::string_view text, std::string_view what) {
    if (auto d = parse_duration(text)) return *d;
    throw error(error_kind::invalid_input, std::string(what) + ": invalid duration \"" + std::string(text) +
                                               "\" (use a unit, e.g. 250ms, 30s, 5m, 1h, 2d, or HH:MM:SS)");
}

std::string format_duration(std::int64_t ms) {
    char buf[48];
    if (ms < 1000) {
        std::snprintf(buf, sizeof buf, "%lldms", static_cast<long long>(ms));
    } else if (ms < 60'000) {
        std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(ms) / 1000.0);
    } else if (ms < 3'600'000) {
        std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(ms / 60'000),
                      static_cast<long long>((ms / 1000) % 60));
    } else {
        std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(ms / 3'600'000),
                      static_cast<long long>((ms / 60'000) % 60));
    }
    return buf;
}

std::string format_timeout(std::int64_t ms) {
    return ms % 1000 == 0 ? std::to_string(ms / 1000) + "s" : std::to_string(ms) + "ms";
}

}  // namespace orbitmesh::core
