#pragma once
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

namespace orbitmesh::core {

/// One attempt of a job, `(job_id, attempt)`: what an agent runs, stores and deduplicates by.
using job_key = std::pair<std::string, int>;
/// The same without owning the id, for lookups.
using job_key_view = std::pair<std::string_view, int>;

/// Orders job keys as std::pair does; transparent, so a std::map can be searched with a
/// job_key_view without copying the id.
struct job_key_less {
    using is_transparent = void;
    template <class A, class B>
    bool operator()(const A& a, const B& b) const noexcept {
        const int c = std::string_view(a.first).compare(std::string_view(b.first));
        return c < 0 || (c == 0 && a.second < b.second);
    }
};

/// Hash and equality for unordered maps of job keys, transparent in the same way.
struct job_key_hash {
    using is_transparent = void;
    std::size_t operator()(const job_key_view& k) const noexcept {
        return std::hash<std::string_view>{}(k.first) ^ (static_cast<std::size_t>(k.second) * 0x9e3779b97f4a7c15ull);
    }
    std::size_t operator()(const job_key& k) const noexcept { return (*this)(job_key_view(k.first, k.second)); }
};

struct job_key_eq {
    using is_transparent = void;
    template <class A, class B>
    bool operator()(const A& a, const B& b) const noexcept {
        return a.second == b.second && std::string_view(a.first) == std::string_view(b.first);
    }
};

}  // namespace orbitmesh::core
