#include "engine/workflow/mock_port.hpp"

#include <chrono>

#include "core/job_events.hpp"
#include "core/run_events.hpp"

namespace orbitmesh::engine {

namespace {

// A step the runner hands to worker threads (script, http) answers through post(): how long
// drive() waits for it in real time before calling the run stuck.
constexpr auto worker_patience = std::chrono::seconds(10);

}  // namespace

std::string step_id_of(const std::string& path) {
    auto slash = path.rfind('/');
    std::string last = slash == std::string::npos ? path : path.substr(slash + 1);
    if (auto bracket = last.find('['); bracket != std::string::npos) last.resize(bracket);
    return last;
}

mock_port::mock_port(std::map<std::string, step_mock> jobs, std::map<std::string, step_mock> compensations,
                     bool unmocked_succeed)
    : jobs_(std::move(jobs)), compensations_(std::move(compensations)), unmocked_succeed_(unmocked_succeed) {}

void mock_port::post(std::function<void()> fn) {
    {
        std::lock_guard lock(posted_mutex_);
        posted_.push_back(std::move(fn));
    }
    posted_cv_.notify_all();
}

void mock_port::take_posted() {
    std::vector<std::function<void()>> fns;
    {
        std::lock_guard lock(posted_mutex_);
        fns.swap(posted_);
    }
    for (auto& f : fns) after(0, std::move(f));
}

bool mock_port::drive(const std::function<bool()>& done, std::int64_t horizon_ms, const std::function<void()>& between) {
    // Bounded in steps too: a workflow that loops on itself (a retry storm) ends here.
    for (int steps = 0; steps < 1'000'000; ++steps) {
        take_posted();
        if (done()) return true;
        if (timers_.empty() || timers_.top().due > now_) {
            if (between) between();
            take_posted();
            if (done()) return true;
        }
        if (timers_.empty()) {
            std::unique_lock lock(posted_mutex_);
            if (!posted_cv_.wait_for(lock, worker_patience, [this] { return !posted_.empty(); })) return false;
            continue;
        }
        auto t = timers_.top();
        if (t.due > horizon_ms) return false;
        timers_.pop();
        now_ = std::max(now_, t.due);
        t.fn();
    }
    return false;
}

std::string mock_port::create_job(core::job_spec spec, store::write_batch& batch) {
    core::job_record r;
    r.id = "mock-" + std::to_string(++next_id_);
    r.spec = std::move(spec);
    r.version = 1;
    r.agent_name = "mock";
    batch.events.push_back(core::make_event(core::job_stream(r.id), 0, "job.submitted", {{"id", r.id}}));
    records_[r.id] = std::move(r);
    return "mock-" + std::to_string(next_id_);
}

void mock_port::cancel_job(const std::string& job_id, const std::string& reason) {
    after(0, [this, job_id, reason] {
        mock_answer a;
        a.state = core::job_state::cancelled;
        a.error = reason;
        end_job(job_id, a);
    });
}

const core::job_record* mock_port::job(const std::string& job_id) {
    auto it = records_.find(job_id);
    return it == records_.end() ? nullptr : &it->second;
}

std::vector<core::agent_record> mock_port::agents_for(const core::job_spec&) {
    core::agent_record a;  // `fan_out: all` runs on one pretend agent
    a.id = "mock-agent";
    a.name = "mock";
    return {a};
}

// The hub dispatches a job once the batch that created it is committed; the runner's
// step.started / step.compensating events in the same batch say which step it belongs to.
void mock_port::commit(store::write_batch batch, std::function<void()> on_committed) {
    for (auto& e : batch.events) {
        if (e.stream.rfind("job-", 0) == 0) continue;
        if (e.type == core::run_event::step_started && e.data.contains("job_ids")) {
            for (const auto& id : e.data["job_ids"])
                dispatch(id.get<std::string>(), e.data.value("path", ""), e.data.value("attempt", 1), false);
        } else if (e.type == core::run_event::compensating && e.data.contains("job_id")) {
            dispatch(e.data["job_id"].get<std::string>(), e.data.value("path", ""), e.data.value("attempt", 1), true);
        }
        events_.push_back(std::move(e));
    }
    if (on_committed) after(0, std::move(on_committed));
}

void mock_port::after(std::int64_t delay_ms, std::function<void()> fn) {
    timers_.push({now_ + std::max<std::int64_t>(0, delay_ms), order_++, std::move(fn)});
}

const step_mock* mock_port::find_mock(const std::map<std::string, step_mock>& mocks, const std::string& path) const {
    if (auto it = mocks.find(path); it != mocks.end()) return &it->second;
    if (auto it = mocks.find(step_id_of(path)); it != mocks.end()) return &it->second;
    return nullptr;
}

void mock_port::dispatch(const std::string& job_id, const std::string& path, int attempt, bool compensation) {
    auto rec = records_.find(job_id);
    if (rec == records_.end()) return;
    const auto* mock = find_mock(compensation ? compensations_ : jobs_, path);
    calls_.push_back({path, attempt, compensation, job_id, now_, rec->second.spec.payload, mock != nullptr || compensation});
    mock_answer a;
    if (mock != nullptr && !mock->answers.empty()) {
        auto& n = answered_[(compensation ? "c:" : "j:") + path];
        a = mock->answers[std::min<std::size_t>(static_cast<std::size_t>(n), mock->answers.size() - 1)];
        ++n;
    } else if (!compensation && !unmocked_succeed_) {
        a.state = core::job_state::failed;
        a.exit_code = 1;
        a.error = "no mock for step \"" + path + "\" (add it under `steps:` in the case)";
    }
    rec->second.state = core::job_state::running;
    rec->second.attempt = 1;
    after(a.delay_ms, [this, job_id, a] { end_job(job_id, a); });
}

void mock_port::end_job(const std::string& job_id, const mock_answer& a) {
    auto it = records_.find(job_id);
    if (it == records_.end() || core::is_terminal(it->second.state)) return;
    auto& r = it->second;
    r.state = a.state;
    r.exit_code = a.exit_code ? a.exit_code : std::optional<int>(a.state == core::job_state::succeeded ? 0 : 1);
    r.output = a.output;
    r.error = a.error;
    r.updated_ms = now_;
    if (auto o = observer_.lock()) o->job_ended(r);
}

}  // namespace orbitmesh::engine
