#include "store/postgres/fence.hpp"

#include <algorithm>

#include "store/chain_log.hpp"
#include "store/postgres/connection.hpp"

namespace orbitmesh::store::postgres {
namespace {

using stage = fence_row::stage;
using kind = core::job_event_kind;

// `claimed`: another hub holds a claim on the pending job (reader::claim_jobs) that has not run out.
#define ORBITMESH_CLAIMED_ELSEWHERE \
    "coalesce(claimed_by <> $2 AND claimed_until > (extract(epoch FROM clock_timestamp()) * 1000)::bigint, false)"
constexpr const char* read_fence_sql =
    "SELECT attempt, state, " ORBITMESH_CLAIMED_ELSEWHERE " FROM job_fence WHERE job_id = $1";
constexpr const char* last_version_sql = "SELECT coalesce(max(version), 0) FROM events WHERE stream = $1";
constexpr const char* read_fences_sql =
    "SELECT job_id, attempt, state, " ORBITMESH_CLAIMED_ELSEWHERE " FROM job_fence WHERE job_id = ANY($1::text[])";
#undef ORBITMESH_CLAIMED_ELSEWHERE
constexpr const char* last_versions_sql =
    "SELECT DISTINCT ON (stream) stream, version, hash FROM events WHERE stream = ANY($1::text[])"
    " ORDER BY stream, version DESC";

bool in_flight(stage s) { return s == stage::assigned || s == stage::running; }

fence_facts facts_of(const core::event& e, kind k) {
    fence_facts f;
    f.kind = k;
    const core::json data = e.packed.empty() ? e.data : core::json::from_msgpack(e.packed, true, false);
    if (!data.is_object()) return f;
    if (auto it = data.find("attempt"); it != data.end() && it->is_number_integer()) f.attempt = it->get<int>();
    if (auto it = data.find("state"); it != data.end() && it->is_string()) f.final_state = it->get<std::string>();
    auto present = [&](const char* key) {
        auto it = data.find(key);
        return it != data.end() && !it->is_null();
    };
    f.agent_outcome = present("exit_code") || present("output");
    return f;
}

/// Row `i` of a result whose columns from `attempt_col` on are a job_fence row's attempt, state
/// and whether another hub claims it.
fence_row fence_row_at(const result& r, int i, int attempt_col) {
    const auto st = r.text(i, attempt_col + 1);
    const auto claimed = r.text(i, attempt_col + 2);
    return fence_row{static_cast<int>(r.int64(i, attempt_col)), st.empty() ? stage::pending : static_cast<stage>(st[0]),
                     !claimed.empty() && claimed[0] == 't'};
}

}  // namespace

std::optional<fence_row> fence_step(const std::optional<fence_row>& row, const fence_facts& f, std::string& why) {
    auto refuse = [&](std::string reason) -> std::optional<fence_row> {
        why = std::move(reason);
        return std::nullopt;
    };
    const std::string attempt = "attempt " + std::to_string(f.attempt);
    if (f.kind == kind::submitted) {
        if (row) return refuse("the job already exists");
        return fence_row{};
    }
    if (!row && !f.known) return refuse("the job is not in the store (its submission was refused)");
    if (!row) {  // appended before this database had a fence: take it as the truth
        switch (f.kind) {
        case kind::assigned: return fence_row{f.attempt, stage::assigned};
        case kind::started: return fence_row{f.attempt, stage::running};
        case kind::finished:
        case kind::dead: return fence_row{f.attempt, stage::ended};
        default: return fence_row{std::max(f.attempt, 0), stage::pending};
        }
    }
    const fence_row& r = *row;
    const bool ended = r.at == stage::ended;
    switch (f.kind) {
    case kind::submitted: break;
    case kind::assigned:
        if (r.at != stage::pending) return refuse(attempt + " comes while attempt " + std::to_string(r.attempt) + " is not pending");
        if (f.attempt <= r.attempt) return refuse(attempt + " is already assigned");
        if (r.claimed_elsewhere) return refuse(attempt + ": another hub claimed the job");
        return fence_row{f.attempt, stage::assigned};
    case kind::started:
        if (r.at != stage::assigned || f.attempt != r.attempt) return refuse(attempt + " is not the assigned attempt");
        return fence_row{f.attempt, stage::running};
    case kind::finished:
    case kind::dead:
    case kind::retry_scheduled:
    case kind::requeued: {
        if (ended) return refuse("the job already ended");
        const bool from_queue = r.at == stage::pending && f.kind == kind::finished && !f.agent_outcome;
        if (!from_queue && (!in_flight(r.at) || f.attempt != r.attempt))
            return refuse("a result for " + attempt + ", which is not the current one (" + std::to_string(r.attempt) + ")");
        const bool over = f.kind == kind::finished || f.kind == kind::dead;
        return fence_row{r.attempt, over ? stage::ended : stage::pending};
    }
    case kind::cancel_requested:
        if (ended) return refuse("the job already ended");
        return r;
    case kind::retried:
        if (!ended) return refuse("the job has not ended");
        return fence_row{r.attempt, stage::pending};
    }
    return r;
}

fence::fence(connection& db, std::string hub_id) : db_(db), hub_id_(std::move(hub_id)) {
    const char* doing = "preparing the fence's statements";
    db_.prepare("read_fence", read_fence_sql, doing);
    db_.prepare("last_version", last_version_sql, doing);
    db_.prepare("read_fences", read_fences_sql, doing);
    db_.prepare("last_versions", last_versions_sql, doing);
}

const chain_hash* fence::stored_hash(const std::string& stream, std::int64_t version) const {
    auto it = heads_.find(stream);
    return it != heads_.end() && it->second.version == version ? &it->second.hash : nullptr;
}

void fence::prefetch(const std::vector<core::event>& events) {
    std::vector<std::string> streams, jobs;
    for (const auto& e : events) {
        if (versions_.count(e.stream)) continue;
        versions_.emplace(e.stream, 0);
        streams.push_back(e.stream);
        if (e.stream.rfind("job-", 0) == 0 && !rows_.count(e.stream.substr(4))) {
            rows_.emplace(e.stream.substr(4), std::nullopt);
            jobs.push_back(e.stream.substr(4));
        }
    }
    if (!streams.empty()) {
        const auto list = text_array(streams);
        params p;
        p.text(list);
        auto r = db_.run_prepared("last_versions", p, "reading the versions of " + std::to_string(streams.size()) + " streams");
        for (int i = 0; i < r.rows(); ++i) {
            std::string stream(r.text(i, 0));
            versions_[stream] = r.int64(i, 1);
            const auto h = r.bytes(i, 2);  // NULL (written before the chain): zero_hash, as the writer chains it
            heads_[std::move(stream)] = {r.int64(i, 1), hash_of_cell(h.data(), h.size())};
        }
    }
    if (!jobs.empty()) {
        const auto list = text_array(jobs);
        params p;
        p.text(list).text(hub_id_);
        auto r = db_.run_prepared("read_fences", p, "reading the fence of " + std::to_string(jobs.size()) + " jobs");
        for (int i = 0; i < r.rows(); ++i) rows_[std::string(r.text(i, 0))] = fence_row_at(r, i, 1);
    }
}

bool fence::admit(const core::event& e, std::string& why) {
    if (e.stream.rfind("job-", 0) != 0) return true;
    const auto k = core::parse_job_event_kind(e.type);
    if (!k) return true;
    fence_facts f;
    try {
        f = facts_of(e, *k);
    } catch (const core::json::exception&) {
        return true;  // unreadable data: the fold refuses it, as without the fence
    }
    if (auto v = versions_.find(e.stream); v != versions_.end()) f.known = v->second > 0;
    const std::string job_id = e.stream.substr(4);
    auto it = rows_.find(job_id);
    if (it == rows_.end()) {  // not prefetched (a caller that skipped it): read it now
        params p;
        p.text(job_id).text(hub_id_);
        auto r = db_.run_prepared("read_fence", p, "reading the fence of job " + job_id);
        std::optional<fence_row> row;
        if (r.rows() > 0) row = fence_row_at(r, 0, 0);
        it = rows_.emplace(job_id, row).first;
    }
    auto next = fence_step(it->second, f, why);
    if (!next) return false;
    if (it->second && next->attempt == it->second->attempt && next->at == it->second->at) return true;
    it->second = next;
    dirty_.push_back(job_id);
    return true;
}

void fence::flush() {
    if (dirty_.empty()) return;
    std::sort(dirty_.begin(), dirty_.end());
    dirty_.erase(std::unique(dirty_.begin(), dirty_.end()), dirty_.end());
    std::string sql = "INSERT INTO job_fence(job_id, attempt, state) VALUES";
    std::vector<std::string> stages;  // params keep views: they must outlive the statement
    stages.reserve(dirty_.size());
    params p;
    int n = 0;
    for (const auto& id : dirty_) {
        const auto& row = *rows_.at(id);
        stages.emplace_back(1, static_cast<char>(row.at));
        p.text(id).int64(row.attempt).text(stages.back());
        sql += std::string(n ? "," : "") + "($" + std::to_string(n + 1) + ", $" + std::to_string(n + 2) + ", $" +
               std::to_string(n + 3) + ")";
        n += 3;
    }
    // A claim is for one pending spell: any step of the job ends it.
    sql += " ON CONFLICT(job_id) DO UPDATE SET attempt = excluded.attempt, state = excluded.state, claimed_by = NULL,"
           " claimed_until = NULL";
    db_.query(sql, p, "writing the fence of " + std::to_string(dirty_.size()) + " jobs");
    dirty_.clear();
}

std::int64_t fence::next_version(const std::string& stream) {
    auto it = versions_.find(stream);
    if (it == versions_.end()) {
        params p;
        p.text(stream);
        const auto last = db_.run_prepared("last_version", p, "reading the version of " + stream).int64(0, 0);
        it = versions_.emplace(stream, last).first;
    }
    return ++it->second;
}

std::int64_t fence::last_version(const std::string& stream) const {
    auto it = versions_.find(stream);
    return it == versions_.end() ? 0 : it->second;
}

}  // namespace orbitmesh::store::postgres
