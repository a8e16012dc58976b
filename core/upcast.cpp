#include "core/upcast.hpp"

#include <array>
#include <string>

#include "core/error.hpp"

namespace orbitmesh::core {

namespace {

// Append steps here, never edit or remove one: e.g. {"job.finished", 1, &finished_v1_to_v2}.
constexpr std::array<upcaster, 0> steps{};

}  // namespace

std::span<const upcaster> upcasters() noexcept { return steps; }

int schema_of(const json& data) {
    if (!data.is_object()) return 1;
    auto it = data.find("schema");
    return it != data.end() && it->is_number_integer() ? it->get<int>() : 1;
}

int current_schema(std::string_view type, std::span<const upcaster> table) noexcept {
    int v = 1;
    for (const auto& u : table)
        if (u.type == type && u.from + 1 > v) v = u.from + 1;
    return v;
}

bool has_upcasters(std::string_view type, std::span<const upcaster> table) noexcept {
    for (const auto& u : table)
        if (u.type == type) return true;
    return false;
}

bool upcast(event& e, std::span<const upcaster> table) {
    if (!has_upcasters(e.type, table)) return false;
    const int target = current_schema(e.type, table);
    int at = schema_of(e.data);
    if (at > target) {
        throw error(error_kind::storage, "event " + std::to_string(e.seq) + " (" + e.type + ") has schema " +
                                             std::to_string(at) + " but this orbitmesh knows only up to " +
                                             std::to_string(target) + "; it was written by a newer orbitmesh: upgrade");
    }
    bool changed = false;
    while (at < target) {
        const upcaster* step = nullptr;
        for (const auto& u : table)
            if (u.type == e.type && u.from == at) step = &u;
        if (step == nullptr) {
            throw error(error_kind::internal, "no upcaster for " + e.type + " from schema " + std::to_string(at));
        }
        step->upgrade(e.data);
        ++at;
        if (e.data.is_object()) e.data["schema"] = at;
        changed = true;
    }
    return changed;
}

void upcast_packed(std::string_view type, std::int64_t seq, std::span<const std::uint8_t>& data,
                   std::vector<std::uint8_t>& scratch) {
    if (!has_upcasters(type)) return;  // rare by construction: only types whose schema changed
    event e;
    e.seq = seq;
    e.type = std::string(type);
    e.data = data.empty() ? json() : json::from_msgpack(data.begin(), data.end());
    if (!upcast(e)) return;
    scratch.clear();
    json::to_msgpack(e.data, scratch);
    data = scratch;
}

}  // namespace orbitmesh::core
