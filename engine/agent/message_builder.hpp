#pragma once
#include <string_view>
#include <utility>

#include "core/json.hpp"

namespace orbitmesh::engine::agent {

/// Builds a protocol message field by field (`{"t": type}` to start with). Much cheaper than
/// nlohmann's initializer lists, which build a temporary array per field: these messages are
/// made several times per job.
class message_builder {
public:
    explicit message_builder(std::string_view type) : m_(core::json::value_t::object) { add("t", type); }
    template <class V>
    message_builder& add(const char* key, V&& value) {
        m_.get_ref<core::json::object_t&>().emplace(key, std::forward<V>(value));
        return *this;
    }
    core::json done() { return std::move(m_); }

private:
    core::json m_;
};

}  // namespace orbitmesh::engine::agent
