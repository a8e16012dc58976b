#include "engine/hub/hub_log.hpp"

namespace orbitmesh::engine {

void hub_log(const std::string& line) {
    auto l = line.rfind("error: ", 0) == 0 ? core::log::level::error : core::log::level::info;
    core::log::write("serve", l, line);
}

void hub_log(core::log::level l, const std::string& line, core::log::fields f) { core::log::write("serve", l, line, f); }

}  // namespace orbitmesh::engine
