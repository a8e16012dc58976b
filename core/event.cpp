#include "core/event.hpp"

#include "core/clock.hpp"

namespace orbitmesh::core {

event make_event(std::string stream, std::int64_t last_version, std::string_view type, json data, std::int64_t time_ms) {
    event e;
    e.stream = std::move(stream);
    e.version = last_version + 1;
    e.type = std::string(type);
    e.data = std::move(data);
    e.time_ms = time_ms;
    return e;
}

}  // namespace orbitmesh::core
