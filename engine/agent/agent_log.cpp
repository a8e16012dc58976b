#include "engine/agent/agent_log.hpp"

#include <unistd.h>

#include <atomic>
#include <string>

namespace orbitmesh::engine::agent {

namespace {
std::atomic<bool> verbose_on{false};
std::atomic<bool> quiet_on{false};
}  // namespace

void set_quiet(bool on) { quiet_on.store(on, std::memory_order_relaxed); }

void log_line(std::string_view text) {
    if (quiet_on.load(std::memory_order_relaxed)) return;
    std::string line = "orbitmesh agent: ";
    line.append(text);
    line.push_back('\n');
    // One write() so lines from different threads never interleave.
    [[maybe_unused]] auto n = ::write(STDERR_FILENO, line.data(), line.size());
}

void log_verbose(std::string_view text) {
    if (verbose_on.load(std::memory_order_relaxed)) log_line(text);
}

void set_verbose(bool on) { verbose_on.store(on, std::memory_order_relaxed); }

bool verbose() { return verbose_on.load(std::memory_order_relaxed); }

}  // namespace orbitmesh::engine::agent
