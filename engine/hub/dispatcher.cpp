#include "engine/hub/dispatcher.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <charconv>

namespace orbitmesh::engine {

std::optional<balance_policy> parse_balance_policy(std::string_view s) {
    if (s == "least-loaded" || s == "least_loaded") return balance_policy::least_loaded;
    if (s == "round-robin" || s == "round_robin") return balance_policy::round_robin;
    if (s == "random") return balance_policy::random;
    if (s == "weighted") return balance_policy::weighted;
    return std::nullopt;
}

void dispatcher::enqueue(const core::job_record& job) {
    if (index_.count(job.id)) return;
    key k{-job.spec.priority, job.id};
    queue_.insert(k);
    index_.emplace(job.id, std::move(k));
}

void dispatcher::remove(const std::string& job_id) {
    auto it = index_.find(job_id);
    if (it == index_.end()) return;
    queue_.erase(it->second);
    index_.erase(it);
}

bool dispatcher::can_run(const core::job_spec& spec, const agent_view& agent) {
    const auto& a = *agent.record;
    const auto& t = spec.target;
    // SPEC §4: an agent id or a name glob (the original's `pattern: "web-*"`).
    if (!t.agent.empty() && t.agent != a.id && t.agent != a.name &&
        (t.agent.find_first_of("*?[") == std::string::npos || ::fnmatch(t.agent.c_str(), a.name.c_str(), 0) != 0))
        return false;
    for (const auto& cap : t.capabilities)
        if (std::find(a.capabilities.begin(), a.capabilities.end(), cap) == a.capabilities.end()) return false;
    for (const auto& [k, v] : t.tags) {
        auto it = a.tags.find(k);
        if (it == a.tags.end() || it->second != v) return false;
    }
    return agent.handlers == nullptr || agent.handlers->empty() || agent.handlers->count(spec.command) != 0;
}

namespace {

double load_of(const agent_view& a) {
    return static_cast<double>(a.running) / static_cast<double>(std::max(1, a.record->concurrency));
}

double weight_of(const agent_view& a) {
    auto it = a.record->tags.find("weight");
    double w = 1;
    if (it != a.record->tags.end()) {
        auto [p, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), w);
        if (ec != std::errc() || w <= 0) w = 1;
    }
    return w;
}

}  // namespace

agent_view* dispatcher::choose(std::vector<agent_view*>& c) {
    switch (policy_) {
    case balance_policy::least_loaded:
        return *std::min_element(c.begin(), c.end(), [](const agent_view* x, const agent_view* y) {
            double lx = load_of(*x), ly = load_of(*y);
            return lx != ly ? lx < ly : x->running < y->running;
        });
    case balance_policy::round_robin: return c[round_robin_++ % c.size()];
    case balance_policy::random: return c[std::uniform_int_distribution<std::size_t>(0, c.size() - 1)(rng_)];
    case balance_policy::weighted: {
        double total = 0;
        for (auto* a : c) total += weight_of(*a);
        double pick = std::uniform_real_distribution<double>(0, total)(rng_);
        for (auto* a : c) {
            pick -= weight_of(*a);
            if (pick <= 0) return a;
        }
        return c.back();
    }
    }
    return c.front();
}

std::vector<assignment_choice> dispatcher::match(
    std::vector<agent_view>& agents, std::int64_t now_ms,
    const std::function<const core::job_record*(const std::string&)>& find_job,
    const std::function<bool(const std::string&, const std::string&)>& excluded) {
    std::vector<assignment_choice> out;
    auto free_slots = [&] {
        int n = 0;
        for (const auto& a : agents) n += std::max(0, a.record->concurrency - a.running);
        return n;
    };
    int slots = free_slots();
    std::vector<agent_view*> candidates;
    for (auto it = queue_.begin(); it != queue_.end() && slots > 0;) {
        const auto& job_id = std::get<1>(*it);
        const core::job_record* job = find_job(job_id);
        if (job == nullptr) {  // vanished: drop it from the queue
            index_.erase(job_id);
            it = queue_.erase(it);
            continue;
        }
        candidates.clear();
        if (job->not_before_ms <= now_ms) {
            for (auto& a : agents)
                if (a.running < a.record->concurrency && can_run(job->spec, a) && !excluded(job_id, a.record->id))
                    candidates.push_back(&a);
        }
        if (candidates.empty()) {
            ++it;
            continue;
        }
        agent_view* chosen = choose(candidates);
        chosen->running += 1;
        slots -= 1;
        out.push_back({job_id, chosen->record->id});
        index_.erase(job_id);
        it = queue_.erase(it);
    }
    return out;
}

}  // namespace orbitmesh::engine
