#include "engine/agent/agent_log.hpp"

namespace orbitmesh::engine::agent {

void log_line(std::string_view text) { core::log::write("agent", core::log::level::info, text); }

void log_event(core::log::level l, std::string_view text, core::log::fields f) { core::log::write("agent", l, text, f); }

void log_verbose(std::string_view text) { core::log::write("agent", core::log::level::debug, text); }

void set_verbose(bool on) {
    if (on) core::log::lower_threshold(core::log::level::debug);
}

bool verbose() { return core::log::enabled(core::log::level::debug); }

}  // namespace orbitmesh::engine::agent
