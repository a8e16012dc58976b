#include <catch2/catch.hpp>

#include "core/error.hpp"
#include "core/job.hpp"
#include "core/job_limits.hpp"
#include "core/job_text.hpp"

using namespace orbitmesh::core;

TEST_CASE("job limits: only the keys that are set are written, and read back the same") {
    job_limits l;
    CHECK(l.empty());
    CHECK(to_json(l) == json::object());
    l.cpu_seconds = 2;
    l.memory_mb = 64;
    l.network = true;
    auto j = to_json(l);
    CHECK(j == json{{"cpu_seconds", 2}, {"memory_mb", 64}, {"network", true}});
    CHECK(job_limits_from_json(j, "limits") == l);
    CHECK(describe(l) == "cpu_seconds: 2, memory_mb: 64, network: true");
}

TEST_CASE("job limits: unknown keys, negative and non-integer values are refused naming the field") {
    // Through the job spec reader, as an HTTP body or `job submit --limit` is read.
    auto message = [](const json& limits) {
        try {
            job_spec_from_json({{"command", "shell"}, {"payload", "true"}, {"limits", limits}});
        } catch (const error& e) {
            CHECK(e.kind() == error_kind::invalid_input);
            return std::string(e.what());
        }
        return std::string("accepted");
    };
    CHECK(message({{"memry_mb", 5}}) ==
          "job field \"limits.memry_mb\" is not a limit (did you mean \"memory_mb\"? use cpu_seconds, memory_mb, "
          "output_bytes, files, pids, network)");
    CHECK(message({{"cpu_seconds", -1}}).find("job field \"limits.cpu_seconds\" must be an integer from 0") == 0);
    CHECK(message({{"files", 1.5}}).find("\"limits.files\" must be an integer") != std::string::npos);
    CHECK(message({{"memory_mb", "64"}}).find("\"limits.memory_mb\" must be an integer from 0 to 1099511627776, got a string") !=
          std::string::npos);
    CHECK(message({{"network", "yes"}}) == "job field \"limits.network\" must be true or false, got a string");
    CHECK(message(json::array()) == "job field \"limits\" must be a map, got an array");
    CHECK(message(nullptr) == "accepted");
    CHECK(message({{"pids", nullptr}}) == "accepted");
}

TEST_CASE("job limits: a value read outside a spec is named by its owner") {
    try {
        job_limits_from_json({{"cpu_secs", 1}}, "step \"a\" limits");
        FAIL("accepted");
    } catch (const error& e) {
        // cpu_secs is too far from cpu_seconds for a hint; the list of limits says it instead.
        CHECK(std::string(e.what()) == "step \"a\" limits field \"cpu_secs\" is not a limit (use cpu_seconds, memory_mb, "
                                       "output_bytes, files, pids, network)");
    }
    CHECK(job_limits_from_json(nullptr, "x").empty());
}

TEST_CASE("job limits: a spec carries them through JSON and the projection text") {
    json spec = {{"command", "shell"}, {"payload", "true"}, {"limits", {{"output_bytes", 1000}, {"pids", 8}}}};
    auto s = job_spec_from_json(spec);
    CHECK(s.limits.output_bytes == 1000);
    CHECK(s.limits.pids == 8);
    CHECK(to_json(s)["limits"] == json{{"output_bytes", 1000}, {"pids", 8}});
    job_record r;
    r.id = "j1";
    r.spec = s;
    CHECK(to_json_text(r) == to_json(r).dump());
    r.spec.limits = {};
    CHECK(to_json(r).count("limits") == 0);
    CHECK(to_json_text(r) == to_json(r).dump());
}
