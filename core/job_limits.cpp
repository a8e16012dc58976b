#include "core/job_limits.hpp"

#include <vector>

#include "core/workflow_suggest.hpp"

namespace orbitmesh::core {

namespace {

// Upper bound keeps every value representable as an rlimit and in bytes (memory_mb * 2^20).
constexpr std::int64_t max_value = std::int64_t{1} << 40;

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

job_limits read_job_limits(field_reader r) {
    job_limits l;
    const std::vector<std::string_view> known(job_limit_keys.begin(), job_limit_keys.end());
    for (const auto& key : r.keys()) {
        if (key == "network") {
            l.network = r.maybe_boolean(key).value_or(false);
        } else if (auto* out = field(l, key)) {
            *out = r.maybe_integer(key, 0, max_value).value_or(0);
        } else {
            auto hint = did_you_mean(key, known);
            r.fail(key, "is not a limit (" + (hint.empty() ? "" : hint + " ") +
                            "use cpu_seconds, memory_mb, output_bytes, files, pids, network)");
        }
    }
    return l;
}

job_limits job_limits_from_json(const json& j, std::string_view what) {
    if (j.is_null()) return {};
    return read_job_limits(field_reader(j, what, error_kind::invalid_input));
}

std::string describe(const job_limits& l) {
    std::string out;
    const json j = to_json(l);
    for (const auto& [k, v] : j.items()) out += (out.empty() ? "" : ", ") + k + ": " + v.dump();
    return out;
}

}  // namespace orbitmesh::core
