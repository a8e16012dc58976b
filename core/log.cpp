#include "core/log.hpp"

#include <unistd.h>

#include <atomic>

#include "core/clock.hpp"
#include "core/json_text.hpp"

namespace orbitmesh::core::log {

namespace {

std::atomic<format> out_format{format::text};
std::atomic<level> min_level{level::info};
std::atomic<bool> silenced{false};

}  // namespace

std::optional<level> parse_level(std::string_view s) noexcept {
    if (s == "debug") return level::debug;
    if (s == "info") return level::info;
    if (s == "warn" || s == "warning") return level::warn;
    if (s == "error") return level::error;
    return std::nullopt;
}

std::optional<format> parse_format(std::string_view s) noexcept {
    if (s == "text") return format::text;
    if (s == "json") return format::json;
    return std::nullopt;
}

std::string_view to_string(level l) noexcept {
    switch (l) {
        case level::debug: return "debug";
        case level::info: return "info";
        case level::warn: return "warn";
        default: return "error";
    }
}

void configure(format f, level threshold) {
    out_format.store(f);
    min_level.store(threshold);
}

void lower_threshold(level l) noexcept {
    auto cur = min_level.load();
    while (l < cur && !min_level.compare_exchange_weak(cur, l)) {
    }
}

void silence() noexcept { silenced.store(true); }

bool enabled(level l) noexcept {
    return l >= min_level.load(std::memory_order_relaxed) && !silenced.load(std::memory_order_relaxed);
}

void write(std::string_view component, level l, std::string_view message, fields f) {
    if (!enabled(l)) return;
    std::string line;
    if (out_format.load(std::memory_order_relaxed) == format::text) {
        line.reserve(component.size() + message.size() + 12);
        line.append("orbitmesh");
        if (!component.empty()) line.append(" ").append(component);
        line.append(": ").append(message);
    } else {
        json_text w(line);
        w.begin_object().key("time").str(format_time(now_ms())).key("level").str(to_string(l));
        w.key("component").str(component.empty() ? std::string_view("orbitmesh") : component).key("msg").str(message);
        for (const auto& [k, v] : f)
            if (!v.empty()) w.key(k).str(v);
        w.end_object();
    }
    line.push_back('\n');
    [[maybe_unused]] auto n = ::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace orbitmesh::core::log
