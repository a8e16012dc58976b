#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/json.hpp"
#include "core/trigger_events.hpp"
#include "core/trigger_schedule.hpp"
#include "core/workflow.hpp"
#include "engine/hub/job_port.hpp"
#include "engine/workflow/runner.hpp"

namespace orbitmesh::engine {

/// A webhook delivery as the route read it: the raw body (what the HMAC covers) and its headers.
struct webhook_delivery {
    std::string workflow;
    std::string trigger;
    std::string body;
    std::string signature;  // X-OrbitMesh-Signature: "sha256=HEX" (or bare HEX)
    std::string timestamp;  // X-OrbitMesh-Timestamp: Unix seconds, signed together with the body
};

struct trigger_options {
    std::int64_t grace_ms = 60'000;             // a fire time younger than this is on time, not missed
    std::int64_t webhook_window_ms = 300'000;   // a webhook timestamp further off than this is refused
};

/// The trigger engine (SPEC §4): fires the schedule, event and webhook triggers of the newest
/// registered version of every workflow by starting runs through the runner. Schedule fire times
/// are decided once and recorded in `trigger-<workflow>/<trigger>` streams (core/trigger_events),
/// each run carrying the idempotency key of its fire time, so a restart neither skips nor doubles
/// one. Lives on the hub strand like the runner: every member must be called there.
class trigger_engine : public job_observer, public std::enable_shared_from_this<trigger_engine> {
public:
    trigger_engine(job_port& port, std::shared_ptr<runner> rn, const core::clock& clock = core::clock::system(),
                   trigger_options opts = {});
    /// Hooks itself into the runner (registrations, posted events, run ends). Call once, before recovery.
    void connect();

    // job_observer: trigger streams at recovery; job ends become `job.<state>` and `job.finished` events.
    void replay(const core::event& e) override;
    /// Its `trigger-*` streams are not in the hub's snapshot: folded again up to it.
    std::vector<std::string> restore(const core::hub_snapshot&) override { return {"trigger-"}; }
    void recovered() override;
    void job_ended(const core::job_record& job) override;
    /// The hub that ended it fires the event triggers it matches, not every hub folding it.
    void foreign_job_ended(const core::job_record&) override {}
    /// Shared store: other hubs' trigger streams fold here too (their fire times and runs).
    void foreign_event(const core::event& e) override;
    void job_output(const store::log_line&) override {}
    void add_stats(core::json& stats) const override;

    /// A new version of `workflow_id` was committed: re-arm its schedule triggers.
    void workflow_registered(const std::string& workflow_id);
    /// An event happened (posted, a job or run ended): starts a run for each event trigger it
    /// matches; returns how many. Their batches are queued before the caller's next commit.
    int on_event(const std::string& type, const core::json& data, const std::string& correlation_key);
    /// Whether any registered workflow (newest versions) has an enabled event trigger.
    bool any_event_trigger() const;
    /// `POST /api/v1/hooks/WORKFLOW/TRIGGER`: checks the signature and timestamp (401 otherwise,
    /// nothing started), maps inputs, starts one run; replies 202 {run_id} once it is committed.
    void webhook(const webhook_delivery& d, api_reply reply);
    /// `GET /api/v1/triggers[?workflow=ID]`: each trigger with its next fire time and last outcome.
    core::json list(const std::string& workflow_id) const;

private:
    struct armed_schedule {
        std::string workflow;
        core::workflow_trigger def;
        core::trigger_schedule schedule;
        std::uint64_t generation = 0;
        std::int64_t decided_ms = 0;  // fire times up to here are decided (committed or on their way)
        std::int64_t next_ms = 0;
        int starting = 0;             // runs asked for, not yet committed
    };

    void arm_workflow(const std::string& workflow_id);
    void tick(const std::string& stream, std::uint64_t generation);
    void schedule_timer(armed_schedule& a, const std::string& stream);
    void fire(const std::string& workflow, const core::workflow_trigger& t, std::int64_t fire_ms, const std::string& cause,
              core::json inputs, std::string idempotency_key, api_reply reply = nullptr);
    void record(const std::string& workflow, const std::string& trigger, std::string_view type, core::json data);
    bool at_capacity(const std::string& stream, const core::workflow_trigger& t) const;
    core::trigger_record& record_of(const std::string& workflow, const std::string& trigger);

    job_port& port_;
    std::shared_ptr<runner> runner_;
    const core::clock& clock_;
    trigger_options opts_;
    std::map<std::string, core::trigger_record> records_;   // by stream
    std::map<std::string, armed_schedule> schedules_;        // by stream
    std::uint64_t generation_ = 0;
    std::int64_t events_seen_ = 0;
    bool recovering_ = true;
};

/// A trigger's `input_mapping` evaluated over `context` (`event`, `data`, `body`, …); throws
/// core::error{invalid_input} when an expression fails.
core::json map_inputs(const core::workflow_trigger& t, const core::json& context);

/// The `X-OrbitMesh-Signature` of a delivery: "sha256=" + hex HMAC-SHA256 of "TIMESTAMP.BODY".
std::string webhook_signature(const std::string& secret, const std::string& timestamp, const std::string& body);

/// The trigger's spec as recorded in `trigger.armed` ("cron 0 3 * * * Europe/Berlin", "interval 1000"):
/// a changed one re-arms the trigger (counting starts again from then).
std::string schedule_spec(const core::workflow_trigger& t);

}  // namespace orbitmesh::engine
