#pragma once
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "core/json.hpp"

namespace orbitmesh::engine {

/// Which events an event-stream client asked for: `?job=ID`, `?run=ID` (the run's own events and
/// its steps' jobs), `?agent=ID` (the agent's stream and the jobs assigned to it), `?type=a.,b.`
/// (type prefixes). Given filters must all match. Some matches depend on earlier events (which
/// jobs belong to a run), so `matches` learns as it goes and sees every event in seq order.
/// Not thread-safe: one per client, used by the feed's thread.
class event_filter {
public:
    /// From the request's query. Throws core::error{invalid_input} for an empty value or a bad type list.
    static event_filter from_query(const std::map<std::string, std::string>& query);

    /// Whether the event goes to the client; `data` is its MessagePack (decoded only when needed).
    bool matches(std::string_view stream, std::string_view type, std::span<const std::uint8_t> data);
    /// The stream whose earlier events the client's resume point may have skipped but the filter
    /// needs (a run's stream, for the jobs of its steps); empty when none.
    std::string history_stream() const;
    /// Learns from an event without matching it (history_stream()'s events before the resume point).
    void learn(std::string_view stream, std::string_view type, std::span<const std::uint8_t> data);

private:

    std::string job_stream_;    // "job-ID" when ?job=
    std::string run_stream_;    // "run-ID" when ?run=
    std::string agent_id_;      // when ?agent=
    std::string agent_stream_;  // "agent-ID"
    std::vector<std::string> type_prefixes_;
    std::unordered_set<std::string> run_jobs_;    // job streams of the run's steps
    std::unordered_set<std::string> agent_jobs_;  // job streams assigned to the agent
};

/// One server-sent event: `id: SEQ`, `event: TYPE`, `data: {"seq","stream","type","time","data"}`.
void append_sse(std::string& out, std::int64_t seq, std::string_view stream, std::string_view type, std::int64_t time_ms,
                std::span<const std::uint8_t> data);

}  // namespace orbitmesh::engine
