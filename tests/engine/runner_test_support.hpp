#pragma once
// The workflow runner against a fake job_port: no hub, no sockets, timers fired by the test.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>

#include "core/job_events.hpp"
#include "core/run_events.hpp"
#include "engine/workflow/runner.hpp"

namespace orbitmesh::test {

using core::json;

/// A job_port that records created jobs, lets the test end them and fires `after` on demand.
struct fake_port : engine::job_port {
    std::map<std::string, core::job_record> jobs;
    std::vector<std::string> created;
    std::vector<std::string> cancelled;
    std::vector<core::event> log;
    std::vector<std::pair<std::int64_t, std::function<void()>>> timers;
    std::shared_ptr<engine::runner> runner;
    int next = 0;

    std::string create_job(core::job_spec spec, store::write_batch& batch) override {
        core::job_record r;
        r.id = "j" + std::to_string(++next);
        r.spec = std::move(spec);
        r.version = 1;
        created.push_back(r.id);
        batch.events.push_back(core::make_event(core::job_stream(r.id), 0, "job.submitted", {{"id", r.id}}));
        jobs[r.id] = r;
        return r.id;
    }
    void cancel_job(const std::string& id, const std::string&) override { cancelled.push_back(id); }
    const core::job_record* job(const std::string& id) override {
        auto it = jobs.find(id);
        return it == jobs.end() ? nullptr : &it->second;
    }
    std::vector<core::agent_record> agents_for(const core::job_spec&) override { return {}; }
    void commit(store::write_batch batch, std::function<void()> done) override {
        for (auto& e : batch.events)
            if (e.stream.rfind("job-", 0) != 0) log.push_back(e);
        if (done) done();
    }
    void after(std::int64_t delay_ms, std::function<void()> fn) override { timers.emplace_back(delay_ms, std::move(fn)); }

    /// Fires the timers armed with a delay of at most `max_ms` (once each).
    void fire(std::int64_t max_ms) {
        std::vector<std::function<void()>> due;
        for (auto it = timers.begin(); it != timers.end();) {
            if (it->first <= max_ms) {
                due.push_back(std::move(it->second));
                it = timers.erase(it);
            } else {
                ++it;
            }
        }
        for (auto& f : due) f();
    }
    void finish(const std::string& id, core::job_state state, json output = nullptr, std::string error = {}) {
        auto& j = jobs.at(id);
        j.state = state;
        j.output = std::move(output);
        j.error = std::move(error);
        runner->job_ended(j);
    }
    const core::job_spec& spec(std::size_t i) { return jobs.at(created.at(i)).spec; }
};

/// A runner over `Port` (a fake_port, or one that answers more), recovered and ready to run.
template <class Port = fake_port>
struct basic_fixture {
    Port port;
    std::shared_ptr<engine::runner> rn;

    basic_fixture() { rn = port.runner = std::make_shared<engine::runner>(port, [](std::function<void()> f) { f(); }); rn->recovered(); }

    void add(const std::string& yaml) {
        int status = 0;
        json body;
        rn->register_workflow(yaml, "w.yaml", [&](int s, json b) { status = s, body = std::move(b); });
        INFO(body.dump());
        REQUIRE(status == 201);
    }
    std::string start(const std::string& id, json inputs = json::object()) {
        engine::run_request req;
        req.workflow_id = id;
        req.inputs = std::move(inputs);
        std::string run;
        rn->start_run(req, [&](int, json b) { run = b.value("id", ""); });
        REQUIRE(!run.empty());
        return run;
    }
    const core::run_record& run(const std::string& id) { return *rn->find_run(id); }
    core::step_state state(const std::string& id, const std::string& path) {
        const auto* s = rn->find_run(id)->find(path);
        return s ? s->state : core::step_state::pending;
    }
};
using fixture = basic_fixture<>;

}  // namespace orbitmesh::test
