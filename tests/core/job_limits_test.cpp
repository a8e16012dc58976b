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

TEST_CASE("job limits: unknown keys, negative and non-integer values are refused with the key named") {
    auto message = [](const json& j) {
        try {
            job_limits_from_json(j, "job field \"limits\"");
        } catch (const error& e) {
            CHECK(e.kind() == error_kind::invalid_input);
            return std::string(e.what());
        }
        return std::string("accepted");
    };
    CHECK(message({{"memry_mb", 5}}).find("did you mean \"memory_mb\"") != std::string::npos);
    CHECK(message({{"cpu_seconds", -1}}).find("\"cpu_seconds\" must be a whole number") != std::string::npos);
    CHECK(message({{"files", 1.5}}).find("\"files\"") != std::string::npos);
    CHECK(message({{"network", "yes"}}).find("true or false") != std::string::npos);
    CHECK(message(json::array()).find("must be a map") != std::string::npos);
    CHECK(message(nullptr) == "accepted");
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
