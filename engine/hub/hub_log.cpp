#include "engine/hub/hub_log.hpp"

#include <atomic>
#include <cstdio>

namespace orbitmesh::engine {

namespace {
std::atomic<bool> quiet_logs{false};
}  // namespace

void set_hub_log_quiet(bool quiet) { quiet_logs.store(quiet, std::memory_order_relaxed); }

void hub_log(const std::string& line) {
    if (quiet_logs.load(std::memory_order_relaxed)) return;
    std::string out = "orbitmesh serve: " + line + "\n";
    std::fwrite(out.data(), 1, out.size(), stderr);
}

}  // namespace orbitmesh::engine
