#include "core/job_limits.hpp"

#include <vector>

#include "core/error.hpp"
#include "core/workflow_suggest.hpp"

namespace orbitmesh::core {

namespace {

// Upper bounds keep every value representable as an rlimit and in bytes (memory_mb * 2^20).
constexpr std::int64_t max_value = std::int64_t{1} << 40;

[[noreturn]] void bad(std::string_view what, const std::string& problem) {
    throw error(error_kind::invalid_input, std::string(what) + " " + problem);
}

std::int64_t* field(job_limits& l, std::string_view key) {
    if (key == "cpu_seconds") return &l.cpu_seconds;
    if (key == "memory_mb") return &l.memory_mb;
    if (key == "output_bytes") return &l.output_bytes;
    if (key == "files") return &l.files;
    if (key == "pids") return &l.pids;
    return nullptr;
}

}  // namespace

json to_json(const job_limits& l) {
    json j = json::object();
    if (l.cpu_seconds) j["cpu_seconds"] = l.cpu_seconds;
    if (l.memory_mb) j["memory_mb"] = l.memory_mb;
    if (l.output_bytes) j["output_bytes"] = l.output_bytes;
    if (l.files) j["files"] = l.files;
    if (l.pids) j["pids"] = l.pids;
    if (l.network) j["network"] = true;
    return j;
}

job_limits job_limits_from_json(const json& j, std::string_view what) {
    job_limits l;
    if (j.is_null()) return l;
    if (!j.is_object()) bad(what, "must be a map such as {cpu_seconds: 10, memory_mb: 256}");
    std::vector<std::string_view> keys(job_limit_keys.begin(), job_limit_keys.end());
    for (const auto& [key, v] : j.items()) {
        if (v.is_null()) continue;
        if (key == "network") {
            if (!v.is_boolean()) bad(what, "key \"network\" must be true or false");
            l.network = v.get<bool>();
            continue;
        }
        auto* out = field(l, key);
        if (!out) {
            auto hint = did_you_mean(key, keys);
            bad(what, "has an unknown key \"" + key + "\"" + (hint.empty() ? "" : " (" + hint + ")") +
                          " (use cpu_seconds, memory_mb, output_bytes, files, pids, network)");
        }
        if (!v.is_number_integer() || v.get<std::int64_t>() < 0 || v.get<std::int64_t>() > max_value)
            bad(what, "key \"" + key + "\" must be a whole number from 0 (no limit) up");
        *out = v.get<std::int64_t>();
    }
    return l;
}

std::string describe(const job_limits& l) {
    std::string out;
    const json j = to_json(l);
    for (const auto& [k, v] : j.items()) out += (out.empty() ? "" : ", ") + k + ": " + v.dump();
    return out;
}

}  // namespace orbitmesh::core
