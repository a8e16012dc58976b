#include "engine/hub/hub_log.hpp"

#include <cstdio>

namespace orbitmesh::engine {

void hub_log(const std::string& line) {
    std::string out = "orbitmesh serve: " + line + "\n";
    std::fwrite(out.data(), 1, out.size(), stderr);
}

}  // namespace orbitmesh::engine
