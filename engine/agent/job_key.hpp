#pragma once
#include <string>
#include <string_view>
#include <utility>

#include "core/json.hpp"

namespace orbitmesh::engine::agent {

/// One attempt of a job, `(job_id, attempt)`: what the agent runs, stores and deduplicates by.
using job_key = std::pair<std::string, int>;
/// The same without owning the id, for lookups.
using job_key_view = std::pair<std::string_view, int>;

/// Orders job keys as std::pair does, and lets maps be searched with a job_key_view so a lookup
/// does not copy the id.
struct job_key_less {
    using is_transparent = void;
    template <class A, class B>
    bool operator()(const A& a, const B& b) const noexcept {
        const int c = std::string_view(a.first).compare(std::string_view(b.first));
        return c < 0 || (c == 0 && a.second < b.second);
    }
};

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
