#include "store/postgres/log_notice.hpp"

namespace orbitmesh::store::postgres {
namespace {

constexpr std::size_t max_payload = 7900;  // PostgreSQL's limit is 8000 bytes

}  // namespace

std::string log_notice(const std::string& hub_id, const std::vector<std::string>& job_ids) {
    std::string out = hub_id + "|";
    const auto head = out.size();
    for (const auto& id : job_ids) {
        if (out.size() + id.size() + 1 > max_payload) return out.substr(0, head) + "*";
        if (out.size() > head) out += ',';
        out += id;
    }
    return out;
}

log_notice_parts parse_log_notice(std::string_view payload) {
    log_notice_parts parts;
    const auto bar = payload.find('|');
    if (bar == std::string_view::npos) {
        parts.all = true;
        return parts;
    }
    parts.hub_id = std::string(payload.substr(0, bar));
    auto rest = payload.substr(bar + 1);
    if (rest == "*") {
        parts.all = true;
        return parts;
    }
    while (!rest.empty()) {
        const auto comma = rest.find(',');
        const auto id = rest.substr(0, comma);
        if (!id.empty()) parts.job_ids.emplace_back(id);
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
    }
    return parts;
}

}  // namespace orbitmesh::store::postgres
