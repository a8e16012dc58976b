#pragma once
#include <cstdint>
#include <filesystem>
#include <string>

#include "core/json.hpp"

namespace orbitmesh::engine::agent {

/// Facts about the machine, read from /proc and the C library. Each call reads afresh; cheap
/// (/proc is in memory) and thread-safe.
int core_count();
std::string host_name();
/// One-minute load average divided by the number of cores.
double cpu_load();
/// Used fraction of memory, 1 - MemAvailable/MemTotal from /proc/meminfo (0 when unreadable).
double memory_used_fraction();
std::uint64_t disk_free_bytes(const std::filesystem::path& where);

/// `{host, os, kernel, arch, cores, memory_bytes, disk_free_bytes, uptime_s}`.
core::json system_info(const std::filesystem::path& disk_path);
/// `{status: "ok", load, mem_used_fraction, disk_free_bytes}`.
core::json system_health(const std::filesystem::path& disk_path);

}  // namespace orbitmesh::engine::agent
