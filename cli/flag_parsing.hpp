#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace orbitmesh::cli {

/// `HOST:PORT` for --listen. Throws core::error{usage}.
std::pair<std::string, std::uint16_t> parse_listen(const std::string& text);
/// A duration flag in ms (`250ms`, `30s`, ...). Throws core::error{usage} naming the flag.
std::int64_t duration_flag(const std::string& text, const std::string& flag);
/// Like duration_flag but refuses zero.
std::int64_t positive_duration(const std::string& text, const std::string& flag);
/// `KEY=VALUE` words (--tag) into a map. Throws core::error{usage} naming the flag.
std::map<std::string, std::string> parse_pairs(const std::vector<std::string>& words, const std::string& flag);

/// Applies `--log-format text|json` and `--log-level debug|info|warn|error` for the process.
/// Throws core::error{usage} naming the flag.
void configure_logging(const std::string& format, const std::string& level);

}  // namespace orbitmesh::cli
