#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/agent.hpp"
#include "core/job.hpp"

namespace orbitmesh::engine {

/// How to choose among the agents that can take a job (SPEC §3).
enum class balance_policy { least_loaded, round_robin, random, weighted };
std::optional<balance_policy> parse_balance_policy(std::string_view s);

/// What the dispatcher needs to know of an agent. `running` is updated by match() as it assigns.
struct agent_view {
    const core::agent_record* record = nullptr;
    const std::set<std::string>* handlers = nullptr;  // empty = accepts any command
    int running = 0;
};

/// One decision of match(): this job goes to this agent.
struct assignment_choice {
    std::string job_id;
    std::string agent_id;
};

/// Queued jobs by priority (higher first), FIFO within a priority (ids are time-ordered), matched
/// to agents with free slots. Lives on the hub strand; not thread-safe.
class dispatcher {
public:
    explicit dispatcher(balance_policy policy = balance_policy::least_loaded) : policy_(policy) {}

    void enqueue(const core::job_record& job);
    void remove(const std::string& job_id);
    bool contains(const std::string& job_id) const { return index_.count(job_id) != 0; }
    std::size_t size() const { return index_.size(); }

    /// Pairs queued jobs with agents that match their target and have a free slot. Jobs whose
    /// `not_before_ms` is in the future, or for which `excluded(job, agent)` is true, are skipped.
    /// Chosen jobs are removed from the queue.
    std::vector<assignment_choice> match(std::vector<agent_view>& agents, std::int64_t now_ms,
                                         const std::function<const core::job_record*(const std::string&)>& find_job,
                                         const std::function<bool(const std::string&, const std::string&)>& excluded);

    /// True when the agent could ever run the job (target, capabilities, tags, handler).
    static bool can_run(const core::job_spec& spec, const agent_view& agent);

private:
    agent_view* choose(std::vector<agent_view*>& candidates);

    using key = std::tuple<int, std::string>;  // (-priority, id)
    std::set<key> queue_;
    std::unordered_map<std::string, key> index_;
    balance_policy policy_;
    std::size_t round_robin_ = 0;
    std::mt19937 rng_{std::random_device{}()};
};

}  // namespace orbitmesh::engine
