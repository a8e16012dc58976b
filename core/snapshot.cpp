#include "core/snapshot.hpp"

#include "core/error.hpp"

namespace orbitmesh::core {

std::string encode(const hub_snapshot& s) {
    json jobs = json::array();
    for (const auto& j : s.jobs) jobs.push_back(to_json(j));
    json counts = json::object();
    for (std::size_t i = 0; i < job_state_count; ++i) counts[std::string(to_string(static_cast<job_state>(i)))] = s.job_counts[i];
    json agents = json::array();
    for (const auto& a : s.agents) agents.push_back({{"record", to_json(a.record)}, {"events", a.events}, {"connected", a.connected}});
    json keys = json::array();
    for (const auto& k : s.keys) keys.push_back(json::array({k.kind, k.key, k.id, k.created_ms}));
    const json j{{"format", hub_snapshot::format}, {"time", s.time_ms},      {"jobs", std::move(jobs)},
                 {"job_counts", std::move(counts)},  {"agents", std::move(agents)}, {"keys", std::move(keys)},
                 {"key_window_ms", s.key_window_ms}, {"live_runs", s.live_runs},    {"run_counts", s.run_counts}};
    const auto bytes = json::to_msgpack(j);
    return std::string(bytes.begin(), bytes.end());
}

hub_snapshot decode_snapshot(std::string_view bytes, int format, std::int64_t seq) {
    const std::string what = "snapshot at seq " + std::to_string(seq);
    if (format != hub_snapshot::format)
        throw error(error_kind::storage, what + " has format " + std::to_string(format) + ", this orbitmesh reads " +
                                             std::to_string(hub_snapshot::format));
    hub_snapshot s;
    s.seq = seq;
    try {
        const auto j = json::from_msgpack(bytes.begin(), bytes.end());
        s.time_ms = j.at("time").get<std::int64_t>();
        for (const auto& r : j.at("jobs")) s.jobs.push_back(job_record_from_json(r));
        for (std::size_t i = 0; i < job_state_count; ++i)
            s.job_counts[i] = j.at("job_counts").value(std::string(to_string(static_cast<job_state>(i))), std::int64_t{0});
        for (const auto& a : j.at("agents"))
            s.agents.push_back({agent_record_from_json(a.at("record")), a.at("events").get<std::int64_t>(), a.value("connected", false)});
        for (const auto& k : j.at("keys"))
            s.keys.push_back({k.at(0).get<std::string>(), k.at(1).get<std::string>(), k.at(2).get<std::string>(), k.at(3).get<std::int64_t>()});
        s.key_window_ms = j.value("key_window_ms", std::int64_t{0});
        s.live_runs = j.at("live_runs").get<std::vector<std::string>>();
        s.run_counts = j.at("run_counts").get<std::map<std::string, std::int64_t>>();
    } catch (const error& e) {
        throw error(error_kind::storage, what + " is unreadable: " + e.what());
    } catch (const json::exception& e) {
        throw error(error_kind::storage, what + " is unreadable: " + e.what());
    }
    return s;
}

}  // namespace orbitmesh::core
