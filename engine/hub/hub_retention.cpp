// Finished jobs leave the hub's memory once their projection row is durable and enough newer
// ones ended (--retain-jobs): memory follows live work, not history. Everything that reads an
// old job still answers, from its `jobs` row (which the job comes back into memory from).
#include <map>

#include "engine/hub/hub.hpp"
#include "engine/hub/hub_state.hpp"

namespace orbitmesh::engine {

core::job_record* hub::find_job(const std::string& id) {
    if (auto it = jobs_.find(id); it != jobs_.end()) return &it->second;
    if (pruned_jobs_ == 0 || id.empty()) return nullptr;
    // Only a job that ended leaves memory, and its row was written with its last event.
    std::optional<core::job_record> row;
    try {
        row = store_.load_job(id);
    } catch (const std::exception& e) {
        hub_log(std::string("could not read job ") + id + " from the jobs table: " + e.what());
        return nullptr;
    }
    if (!row || !core::is_terminal(row->state)) return nullptr;
    auto& job = jobs_.emplace(id, std::move(*row)).first->second;
    prunable_.emplace_back(id, job.version);  // it may leave again
    --pruned_jobs_;
    return &job;
}

void hub::rows_committed(std::vector<std::pair<std::string, std::int64_t>> ended) {
    for (auto& e : ended) prunable_.push_back(std::move(e));
    if (prunable_.size() > opts_.retain_jobs) prune_jobs();
}

void hub::prune_jobs() {
    while (prunable_.size() > opts_.retain_jobs) {
        auto [id, version] = std::move(prunable_.front());
        prunable_.pop_front();
        auto it = jobs_.find(id);
        // Skip a job touched since (retried: live again; or a newer version's row pending).
        if (it == jobs_.end() || it->second.version != version || !core::is_terminal(it->second.state)) continue;
        if (job_waiters_.contains(id) || log_waiters_.contains(id) || dirty_jobs_.count(id)) continue;
        jobs_.erase(it);
        recent_logs_.erase(id);
        log_seq_.erase(id);
        agent_seq_.erase(id);
        exclusions_.erase(id);
        ++pruned_jobs_;
    }
}

namespace {

/// Whether a job passes the list's command and agent filters (the state is checked by the caller).
bool wanted_job(const core::job_record& j, const job_query& q) {
    if (!q.command.empty() && j.spec.command != q.command) return false;
    return q.agent.empty() || j.agent_name == q.agent || j.agent_id == q.agent;
}

}  // namespace

core::json hub::list_jobs_json(const job_query& q, const std::optional<core::job_state>& wanted) {
    // Newest first; stop once every job in the wanted state has been seen (pollers ask for
    // states that are usually empty, which must not cost a walk over every job in memory).
    std::map<std::string, core::json, std::greater<>> found;
    std::size_t left = wanted ? state_counts_[static_cast<std::size_t>(*wanted)] : jobs_.size();
    std::size_t explained = 0;
    // `before` is a cursor: start below it (ids are time-ordered), so page N costs what page 1 does.
    auto start = q.before.empty() ? jobs_.rbegin() : std::make_reverse_iterator(jobs_.lower_bound(q.before));
    for (auto it = start; it != jobs_.rend() && found.size() < q.limit && left > 0; ++it) {
        if (wanted && it->second.state != *wanted) continue;
        --left;
        if (!wanted_job(it->second, q)) continue;
        // Explained only for the first pending ones: each costs a look at every agent.
        bool explain = it->second.state == core::job_state::pending && ++explained <= 200;
        found.emplace(it->first, explain ? job_json(it->second) : core::to_json(it->second));
    }
    // Jobs that left memory are all ended: their rows fill the page (memory wins for the rest).
    // The table is paged by state and cursor only; command and agent filter the page read.
    const bool ended_state = !wanted || core::is_terminal(*wanted);
    if (pruned_jobs_ > 0 && ended_state) {
        try {
            for (auto& r : store_.load_jobs_page(q.limit, wanted ? std::string(core::to_string(*wanted)) : "", q.before))
                if (!jobs_.count(r.id) && wanted_job(r, q)) found.emplace(r.id, core::to_json(r));
        } catch (const std::exception& e) {
            hub_log(std::string("job list: could not read the jobs table: ") + e.what());
        }
    }
    core::json out = core::json::array();
    for (auto& [id, j] : found) {
        if (out.size() >= q.limit) break;
        out.push_back(std::move(j));
    }
    return out;
}

std::optional<core::json> hub::stored_run(const std::string& run_id) {
    try {
        return store_.load_run(run_id);
    } catch (const std::exception& e) {
        hub_log("could not read run " + run_id + " from the runs table: " + std::string(e.what()));
        return std::nullopt;
    }
}

std::vector<core::json> hub::stored_runs(std::size_t limit, const std::string& state) {
    try {
        return store_.load_runs_page(limit, state, "");
    } catch (const std::exception& e) {
        hub_log("run list: could not read the runs table: " + std::string(e.what()));
        return {};
    }
}

std::vector<core::event> hub::stream_events(const std::string& stream) {
    std::vector<core::event> out;
    try {
        store_.for_each_event([&](const core::event& e) { out.push_back(e); }, 0, stream);
    } catch (const std::exception& e) {
        hub_log("could not read the events of " + stream + ": " + std::string(e.what()));
        out.clear();
    }
    return out;
}

}  // namespace orbitmesh::engine
