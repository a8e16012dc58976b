// Replay folds job events in place into job_slots; the hub folds json events into job_records.
// Both go through core::fold_transition, and these tests hold the two representations to the
// same answers: the same events accepted and refused, the same record text after each.
#include <catch2/catch.hpp>

#include <random>

#include "core/error.hpp"
#include "core/job_events.hpp"
#include "core/job_machine.hpp"
#include "core/job_text.hpp"
#include "engine/replay/job_slot.hpp"

using namespace orbitmesh;
using engine::replay::job_slot;

namespace {

struct both {
    core::job_record record;
    job_slot slot;
    engine::replay::arena mem;
    std::int64_t seq = 0;
};

/// Applies `e` to both sides; returns whether they accepted it (and checks they agree).
bool apply_both(both& b, core::event e) {
    e.seq = ++b.seq;
    const auto packed = core::json::to_msgpack(e.data);
    core::event_view v{e.seq, e.stream, e.version, e.type, packed, e.time_ms};
    bool record_ok = true, slot_ok = true;
    std::string record_error, slot_error;
    try {
        core::apply(b.record, e);
    } catch (const core::error& err) {
        record_ok = false;
        record_error = err.what();
    }
    try {
        engine::replay::fold(b.slot, v, b.mem);
    } catch (const core::error& err) {
        slot_ok = false;
        slot_error = err.what();
    }
    INFO(e.type << " " << e.data.dump() << "\n record: " << record_error << "\n slot: " << slot_error);
    REQUIRE(record_ok == slot_ok);
    if (record_ok) REQUIRE(engine::replay::record_text(b.slot) == core::to_json_text(b.record));
    return record_ok;
}

core::event job_event(const both& b, std::string_view type, core::json data, std::int64_t time) {
    core::event e;
    e.stream = "job-j1";
    e.version = b.record.version + 1;
    e.type = std::string(type);
    e.data = std::move(data);
    e.time_ms = time;
    return e;
}

core::json payload_of(std::mt19937& rng) {
    switch (rng() % 8) {
    case 0: return "hello world";
    case 1: return "echo \"quoted\" and\nnewline\ttab \\ back";
    case 2: return core::json{{"script", "ls"}, {"env", {{"B", "2"}, {"A", "1"}}}, {"n", 3}, {"f", 2.5}};
    case 3: return core::json::array({1, -2, 3.25, nullptr, true, "x", core::json::object()});
    case 4: return "caf\xc3\xa9 \xe2\x9c\x93";  // UTF-8
    case 5: return core::json(18446744073709551615ULL);
    case 6: return nullptr;
    default: return core::json{{"deep", {{"er", {{"est", {1, 2, {{"k", "v"}}}}}}}}};
    }
}

core::json spec_of(std::mt19937& rng) {
    core::job_spec s;
    s.command = "echo";
    s.payload = payload_of(rng);
    if (rng() % 3 == 0) {
        s.target.agent = "web1";
        s.target.capabilities = {"gpu", "docker"};
        s.target.tags = {{"zone", "eu"}, {"arch", "arm"}};
    }
    s.priority = static_cast<int>(rng() % 7) - 3;
    s.timeout_ms = rng() % 2 ? 30'000 : 0;
    s.retries = {static_cast<int>(rng() % 3), 500, 4000};
    if (rng() % 2) s.idempotency_key = "key-\"1\"";
    if (rng() % 2) s.trace = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    s.mode = rng() % 2 ? core::job_mode::streaming : core::job_mode::request_response;
    auto j = core::to_json(s);
    switch (rng() % 10) {  // shapes an older or foreign writer might have left
    case 0: return core::json{{"command", "orbit:system:info"}};
    case 1: j["extra"] = 1; return j;
    case 2: j["retries"] = 2; return j;
    case 3: j.erase("mode"); return j;
    case 4: return core::json{{"payload", "no command"}};
    default: return j;
    }
}

core::json event_data(std::mt19937& rng, core::job_event_kind kind, const core::job_record& r) {
    const int attempt = rng() % 5 == 0 ? r.attempt - 1 : r.attempt;  // now and then a stale one
    const char* finals[] = {"succeeded", "failed", "cancelled", "timed_out", "dead", "bogus"};
    switch (kind) {
    case core::job_event_kind::assigned:
        return {{"attempt", r.attempt + (rng() % 6 ? 1 : 0)}, {"agent_id", rng() % 9 ? "a1" : ""}, {"agent_name", "web1"}};
    case core::job_event_kind::finished:
        return {{"attempt", attempt}, {"state", finals[rng() % 6]}, {"exit_code", rng() % 2 ? core::json(0) : core::json()},
                {"output", payload_of(rng)}, {"error", rng() % 2 ? "" : "exit status 1"}};
    case core::job_event_kind::retry_scheduled:
        return {{"attempt", attempt}, {"not_before", 1'700'000'009'000}, {"exit_code", 3}, {"output", nullptr}, {"error", "boom"}};
    case core::job_event_kind::requeued:
        return {{"attempt", attempt}, {"reason", "agent_lost: agent web1 disconnected"}, {"counts", rng() % 2 == 0}};
    case core::job_event_kind::dead: return {{"attempt", attempt}, {"exit_code", 9}, {"output", "x"}, {"error", "gave up"}};
    case core::job_event_kind::cancel_requested: return {{"reason", "cancelled by request"}};
    case core::job_event_kind::started: return {{"attempt", attempt}};
    default: return core::json::object();
    }
}

}  // namespace

TEST_CASE("replay fold: job slots and job records agree on every event of 400 random job histories") {
    std::mt19937 rng(20261203);
    int accepted = 0, refused = 0;
    for (int job = 0; job < 400; ++job) {
        both b;
        std::int64_t t = 1'700'000'000'000 + job * 1000;
        if (!apply_both(b, job_event(b, core::job_event::submitted, {{"id", "j1"}, {"spec", spec_of(rng)}}, t))) {
            ++refused;
            continue;
        }
        for (int step = 0; step < 12; ++step) {
            const auto kind = static_cast<core::job_event_kind>(rng() % core::job_event_kind_count);
            auto e = job_event(b, core::to_string(kind), event_data(rng, kind, b.record), t += 7);
            if (kind == core::job_event_kind::submitted) e.data = {{"id", "j1"}, {"spec", {{"command", "echo"}}}};
            (apply_both(b, e) ? accepted : refused)++;
        }
    }
    CHECK(accepted > 400);
    CHECK(refused > 400);
}

TEST_CASE("replay fold: a plain spec renders without the slow path and a foreign one through it, alike") {
    both plain, foreign;
    core::job_spec s;
    s.command = "shell";
    s.payload = "echo hi";
    REQUIRE(apply_both(plain, job_event(plain, core::job_event::submitted, {{"id", "j1"}, {"spec", core::to_json(s)}}, 5)));
    CHECK(plain.slot.plain_spec);
    REQUIRE(apply_both(foreign, job_event(foreign, core::job_event::submitted,
                                          {{"id", "j1"}, {"spec", {{"command", "orbit:shell"}, {"payload", "echo hi"}}}}, 5)));
    CHECK_FALSE(foreign.slot.plain_spec);
    CHECK(engine::replay::record_text(plain.slot) == engine::replay::record_text(foreign.slot));
}

TEST_CASE("replay fold: a refused event leaves the slot as it was") {
    both b;
    core::job_spec s;
    s.command = "echo";
    REQUIRE(apply_both(b, job_event(b, core::job_event::submitted, {{"id", "j1"}, {"spec", core::to_json(s)}}, 5)));
    const auto before = engine::replay::record_text(b.slot);
    CHECK_FALSE(apply_both(b, job_event(b, core::job_event::started, {{"attempt", 1}}, 6)));
    CHECK(engine::replay::record_text(b.slot) == before);
    CHECK(b.slot.version == 1);
}
