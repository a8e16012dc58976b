#include "engine/events/event_filter.hpp"

#include "core/error.hpp"
#include "core/job_events.hpp"
#include "core/run_events.hpp"

namespace orbitmesh::engine {

namespace {

/// Bounds what one client's filter remembers (a run's or an agent's jobs).
constexpr std::size_t max_learned_jobs = 100'000;

std::string required(const std::map<std::string, std::string>& q, const char* key) {
    auto it = q.find(key);
    if (it == q.end()) return {};
    if (it->second.empty())
        throw core::error(core::error_kind::invalid_input, std::string("query parameter \"") + key + "\" is empty (give an id)");
    return it->second;
}

core::json decode(std::span<const std::uint8_t> data) {
    if (data.empty()) return core::json::object();
    auto j = core::json::from_msgpack(data.begin(), data.end(), true, false);
    return j.is_discarded() ? core::json::object() : j;
}

}  // namespace

event_filter event_filter::from_query(const std::map<std::string, std::string>& q) {
    event_filter f;
    if (auto job = required(q, "job"); !job.empty()) f.job_stream_ = core::job_stream(job);
    if (auto run = required(q, "run"); !run.empty()) f.run_stream_ = core::run_stream(run);
    if (auto agent = required(q, "agent"); !agent.empty()) {
        f.agent_id_ = agent;
        f.agent_stream_ = "agent-" + agent;
    }
    if (auto types = required(q, "type"); !types.empty()) {
        std::string_view rest = types;
        while (!rest.empty()) {
            auto comma = rest.find(',');
            auto part = rest.substr(0, comma);
            if (part.empty() || part.size() > 100)
                throw core::error(core::error_kind::invalid_input,
                                  "query parameter \"type\" must be a comma list of type prefixes (e.g. job.,run.), got \"" +
                                      types + "\"");
            f.type_prefixes_.emplace_back(part);
            rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
            if (comma != std::string_view::npos && rest.empty())
                throw core::error(core::error_kind::invalid_input, "query parameter \"type\" ends with a comma");
        }
    }
    return f;
}

void event_filter::learn(std::string_view stream, std::string_view type, std::span<const std::uint8_t> data) {
    auto add = [](std::unordered_set<std::string>& set, std::string s) {
        if (set.size() < max_learned_jobs) set.insert(std::move(s));
    };
    if (!run_stream_.empty() && stream == run_stream_) {
        if (type == core::run_event::step_started) {
            auto d = decode(data);
            if (auto ids = d.find("job_ids"); ids != d.end() && ids->is_array())
                for (const auto& id : *ids)
                    if (id.is_string()) add(run_jobs_, core::job_stream(id.get<std::string>()));
        } else if (type == core::run_event::compensating) {
            auto d = decode(data);
            if (auto id = d.find("job_id"); id != d.end() && id->is_string()) add(run_jobs_, core::job_stream(id->get<std::string>()));
        }
    }
    // A step's job is created just before the step.started that names it, in the same commit:
    // its job.submitted is known by its idempotency key, "run-ID/STEP/ATTEMPT".
    if (!run_stream_.empty() && type == core::job_event::submitted) {
        auto d = decode(data);
        if (auto spec = d.find("spec"); spec != d.end() && spec->is_object()) {
            auto key = spec->value("idempotency_key", std::string{});
            if (key.size() > run_stream_.size() && key.compare(0, run_stream_.size(), run_stream_) == 0 &&
                key[run_stream_.size()] == '/')
                add(run_jobs_, std::string(stream));
        }
    }
    if (!agent_id_.empty() && type == core::job_event::assigned) {
        if (decode(data).value("agent_id", std::string{}) == agent_id_) add(agent_jobs_, std::string(stream));
        else agent_jobs_.erase(std::string(stream));
    }
}

std::string event_filter::history_stream() const { return run_stream_; }

bool event_filter::matches(std::string_view stream, std::string_view type, std::span<const std::uint8_t> data) {
    const std::string name(stream);
    // Reassigned elsewhere: that event still tells the agent's watcher where its job went.
    const bool was_agents = agent_jobs_.count(name) > 0;
    learn(stream, type, data);  // before the type check: what is learned must not depend on it
    if (!type_prefixes_.empty()) {
        bool any = false;
        for (const auto& p : type_prefixes_) any = any || type.substr(0, p.size()) == p;
        if (!any) return false;
    }
    if (!job_stream_.empty() && stream != job_stream_) return false;
    if (!run_stream_.empty() && stream != run_stream_ && run_jobs_.count(name) == 0) return false;
    if (!agent_id_.empty() && stream != agent_stream_ && agent_jobs_.count(name) == 0 && !was_agents) return false;
    return true;
}

void append_sse(std::string& out, std::int64_t seq, std::string_view stream, std::string_view type, std::int64_t time_ms,
                std::span<const std::uint8_t> data) {
    core::json msg{{"seq", seq}, {"stream", stream}, {"type", type}, {"time", time_ms}, {"data", decode(data)}};
    out += "id: ";
    out += std::to_string(seq);
    out += "\nevent: ";
    out += type;  // types are plain words with dots; never a newline
    out += "\ndata: ";
    out += msg.dump(-1, ' ', false, core::json::error_handler_t::replace);
    out += "\n\n";
}

}  // namespace orbitmesh::engine
