#include "cli/flag_parsing.hpp"

#include <charconv>

#include "core/duration.hpp"
#include "core/error.hpp"
#include "core/log.hpp"

namespace orbitmesh::cli {

std::pair<std::string, std::uint16_t> parse_listen(const std::string& text) {
    auto colon = text.rfind(':');
    auto fail = [&]() -> std::pair<std::string, std::uint16_t> {
        throw core::error(core::error_kind::usage,
                          "--listen \"" + text + "\" is not HOST:PORT (for example 127.0.0.1:7420, or port 0 for any free port)");
    };
    if (colon == std::string::npos || colon == 0) return fail();
    std::string host = text.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    unsigned port = 0;
    const char* b = text.data() + colon + 1;
    const char* e = text.data() + text.size();
    auto [p, ec] = std::from_chars(b, e, port);
    if (b == e || ec != std::errc() || p != e || port > 65535) return fail();
    return {host, static_cast<std::uint16_t>(port)};
}

std::int64_t duration_flag(const std::string& text, const std::string& flag) {
    if (auto d = core::parse_duration(text)) return *d;
    throw core::error(core::error_kind::usage,
                      flag + " \"" + text + "\" is not a duration (use a unit: 250ms, 30s, 5m, 1h, 2d, or HH:MM:SS)");
}

std::int64_t positive_duration(const std::string& text, const std::string& flag) {
    auto ms = duration_flag(text, flag);
    if (ms <= 0) throw core::error(core::error_kind::usage, flag + " must be greater than zero");
    return ms;
}

std::map<std::string, std::string> parse_pairs(const std::vector<std::string>& words, const std::string& flag) {
    std::map<std::string, std::string> out;
    for (const auto& w : words) {
        auto eq = w.find('=');
        if (eq == std::string::npos || eq == 0)
            throw core::error(core::error_kind::usage, flag + " \"" + w + "\" is not KEY=VALUE");
        out[w.substr(0, eq)] = w.substr(eq + 1);
    }
    return out;
}

void configure_logging(const std::string& format, const std::string& level) {
    auto f = core::log::parse_format(format);
    if (!f) throw core::error(core::error_kind::usage, "--log-format must be text or json, not \"" + format + "\"");
    auto l = core::log::parse_level(level);
    if (!l) throw core::error(core::error_kind::usage, "--log-level must be debug, info, warn or error, not \"" + level + "\"");
    core::log::configure(*f, *l);
}

}  // namespace orbitmesh::cli
