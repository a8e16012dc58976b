#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace orbitmesh::store::postgres {

/// The channel a shared store's writer NOTIFYs when a transaction stores agent output, so a hub
/// whose client follows a job's output (`job logs -f`) that another hub's agent produces wakes
/// the reader at once instead of at the end of its long-poll (SPEC §10).
inline constexpr std::string_view log_channel = "orbitmesh_logs";

/// The payload: "HUB|ID,ID,…", or "HUB|*" when the ids do not fit in one NOTIFY (8000 bytes).
std::string log_notice(const std::string& hub_id, const std::vector<std::string>& job_ids);

/// A payload read back: the hub that wrote it, the job ids, `all` for "*". A payload that is not
/// one (no '|') gives an empty hub and `all`, so a reader wakes rather than misses output.
struct log_notice_parts {
    std::string hub_id;
    std::vector<std::string> job_ids;
    bool all = false;
};
log_notice_parts parse_log_notice(std::string_view payload);

}  // namespace orbitmesh::store::postgres
