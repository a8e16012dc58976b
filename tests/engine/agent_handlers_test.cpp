// The in-process handlers (echo, sleep, system.*, file.*) and plugins.
#include <unistd.h>

#include <catch2/catch.hpp>

#include "agent_test_support.hpp"
#include "engine/agent/builtin_handlers.hpp"
#include "engine/agent/handler_registry.hpp"

using namespace agent_test;

TEST_CASE("agent echo: returns its payload unchanged") {
    io_fixture fx;
    auto echo = make_echo_handler();
    json payload{{"a", 1}, {"list", {1, "two", nullptr}}};
    auto probe = run_job(fx, *echo, payload);
    REQUIRE(probe->result);
    CHECK(probe->result->status == job_status::succeeded);
    CHECK(probe->result->exit_code == 0);
    CHECK(probe->result->output == payload);
}

TEST_CASE("agent sleep: accepts seconds, numeric strings, durations and objects") {
    io_fixture fx;
    auto sleep = make_sleep_handler();
    for (const auto& payload : {json(0.2), json("0.2"), json("200ms"), json{{"seconds", 0.2}},
                                json{{"duration", "200ms"}}, json{{"seconds", "0.2"}}}) {
        CAPTURE(payload.dump());
        auto probe = run_job(fx, *sleep, payload, 3s);
        REQUIRE(probe->result);
        CHECK(probe->result->status == job_status::succeeded);
        CHECK(probe->result->output == json{{"slept_ms", 200}});
        CHECK(probe->finished_ms - probe->started_ms >= 190);
    }
}

TEST_CASE("agent sleep: a payload it cannot read fails the job") {
    io_fixture fx;
    auto sleep = make_sleep_handler();
    for (const auto& payload : {json("soon"), json(-1), json(nullptr), json{{"minutes", 1}}}) {
        CAPTURE(payload.dump());
        auto probe = run_job(fx, *sleep, payload, 1s);
        REQUIRE(probe->result);
        CHECK(probe->result->status == job_status::failed);
        CHECK_THAT(probe->result->error, Catch::StartsWith("sleep: "));
    }
}

TEST_CASE("agent sleep: reports progress each second and stops promptly when asked") {
    io_fixture fx;
    auto sleep = make_sleep_handler();
    auto probe = std::make_shared<job_probe>();
    auto ctx = start_job(fx, *sleep, 30, probe);
    REQUIRE(fx.run_until([&] { return !probe->progress.empty(); }, 3s));
    CHECK(probe->progress.front().first == Approx(3.3).margin(0.5));
    CHECK(probe->progress.front().second == "slept 1s of 30s");

    auto asked = now_ms();
    ctx->request_stop(10'000);
    REQUIRE(fx.run_until([&] { return probe->result.has_value(); }, 1s));
    CHECK(now_ms() - asked < 500);
    CHECK(probe->result->status == job_status::cancelled);
}

TEST_CASE("agent system.info and system.health describe the machine") {
    io_fixture fx;
    temp_dir dir;
    auto info = run_job(fx, *make_system_info_handler(dir.path), nullptr);
    REQUIRE(info->result);
    CHECK(info->result->status == job_status::succeeded);
    for (const char* key :
         {"host", "os", "kernel", "arch", "cores", "memory_bytes", "disk_free_bytes", "uptime_s"})
        CHECK(info->result->output.contains(key));
    CHECK(info->result->output["cores"].get<int>() >= 1);
    CHECK(info->result->output["memory_bytes"].get<std::uint64_t>() > 0);

    auto health = run_job(fx, *make_system_health_handler(dir.path), nullptr);
    REQUIRE(health->result);
    CHECK(health->result->output["status"] == "ok");
    auto mem = health->result->output["mem_used_fraction"].get<double>();
    CHECK((mem > 0 && mem < 1));
}

namespace {
struct file_fixture {
    io_fixture fx;
    temp_dir dir;
    fs::path root = dir.path / "files";
    std::shared_ptr<const path_guard> guard;
    file_fixture() {
        fs::create_directories(root);
        guard = std::make_shared<const path_guard>(std::vector<fs::path>{root});
    }
    std::shared_ptr<job_probe> run(const std::shared_ptr<handler>& h, const json& payload) {
        return run_job(fx, *h, payload, 3s);
    }
};
}  // namespace

TEST_CASE("agent file handlers: write, read and stat inside the allowed root") {
    file_fixture f;
    auto wrote = f.run(make_file_write_handler(f.guard), {{"path", "notes/a.txt"}, {"content", "hello\n"}});
    REQUIRE(wrote->result);
    CHECK(wrote->result->status == job_status::succeeded);
    auto appended = f.run(make_file_write_handler(f.guard),
                          {{"path", "notes/a.txt"}, {"content", "again"}, {"append", true}});
    CHECK(appended->result->output["size"] == 11);

    auto read = f.run(make_file_read_handler(f.guard), {{"path", (f.root / "notes/a.txt").string()}});
    REQUIRE(read->result);
    CHECK(read->result->output["content"] == "hello\nagain");
    CHECK(read->result->output["size"] == 11);

    auto stat = f.run(make_file_stat_handler(f.guard), {{"path", "notes/a.txt"}});
    CHECK(stat->result->output["exists"] == true);
    CHECK(stat->result->output["type"] == "file");
    CHECK(stat->result->output["mode"] == "0644");
    auto missing = f.run(make_file_stat_handler(f.guard), {{"path", "notes/none"}});
    CHECK(missing->result->output["exists"] == false);
}

TEST_CASE("agent file.read: bytes that are not UTF-8 come back as base64") {
    file_fixture f;
    write_file(f.root / "bin", std::string("\xff\x00\x01", 3));
    auto read = f.run(make_file_read_handler(f.guard), {{"path", "bin"}});
    REQUIRE(read->result);
    CHECK(read->result->output["content_base64"] == "/wAB");
    CHECK_FALSE(read->result->output.contains("content"));
}

TEST_CASE("agent file handlers: ../ escapes and absolute paths outside the root are refused") {
    file_fixture f;
    write_file(f.dir.path / "secret", "top secret");
    for (const char* path : {"../secret", "notes/../../secret", "/etc/passwd"}) {
        CAPTURE(path);
        auto read = f.run(make_file_read_handler(f.guard), {{"path", path}});
        REQUIRE(read->result);
        CHECK(read->result->status == job_status::failed);
        CHECK_THAT(read->result->error,
                   Catch::Contains("is outside the allowed roots") && Catch::StartsWith("file.read: path"));
        auto wrote = f.run(make_file_write_handler(f.guard), {{"path", path}, {"content", "x"}});
        CHECK(wrote->result->status == job_status::failed);
    }
    CHECK(fs::file_size(f.dir.path / "secret") == 10);
}

TEST_CASE("agent file handlers: symlinks leading out of the root are refused") {
    file_fixture f;
    fs::create_directories(f.dir.path / "outside");
    write_file(f.dir.path / "outside/secret", "top secret");
    fs::create_directory_symlink(f.dir.path / "outside", f.root / "link");
    fs::create_symlink(f.dir.path / "outside/new-file", f.root / "dangling");

    auto read = f.run(make_file_read_handler(f.guard), {{"path", "link/secret"}});
    REQUIRE(read->result);
    CHECK(read->result->status == job_status::failed);
    CHECK_THAT(read->result->error, Catch::Contains("outside the allowed roots"));

    auto wrote = f.run(make_file_write_handler(f.guard), {{"path", "dangling"}, {"content", "x"}});
    REQUIRE(wrote->result);
    CHECK(wrote->result->status == job_status::failed);
    CHECK_FALSE(fs::exists(f.dir.path / "outside/new-file"));
}

TEST_CASE("agent plugins: an executable in the handlers dir is a handler named after the file") {
    io_fixture fx;
    temp_dir dir;
    write_file(dir.path / "greet.sh",
               "#!/bin/sh\nread payload\necho working\necho \"{\\\"got\\\": $payload}\"\n", true);
    write_file(dir.path / "broken", "#!/bin/sh\necho nope >&2\nexit 4\n", true);
    write_file(dir.path / "notes.txt", "not executable");

    write_file(dir.path / "file.download", "#!/bin/sh\necho down\n", true);
    write_file(dir.path / "file.sync", "#!/bin/sh\necho sync\n", true);
    auto reg = make_registry({false, dir.path, {dir.path / "files"}, dir.path, nullptr, nullptr, {}});
    CHECK(reg.find("file.download"));
    CHECK(reg.find("file.sync"));
    CHECK(reg.find("file") == nullptr);
    CHECK(reg.find("notes") == nullptr);
    CHECK(reg.find("notes.txt") == nullptr);
    CHECK(reg.find("greet") == nullptr);  // the whole file name: a `.sh` is part of it
    auto greet = reg.find("greet.sh");
    REQUIRE(greet);
    auto probe = run_job(fx, *greet, json{{"name", "ada"}});
    REQUIRE(probe->result);
    CHECK(probe->result->status == job_status::succeeded);
    CHECK(probe->result->output == json{{"got", {{"name", "ada"}}}});
    CHECK(probe->texts(output_stream::out).front() == "working");

    auto broken = run_job(fx, *reg.find("broken"), nullptr);
    REQUIRE(broken->result);
    CHECK(broken->result->status == job_status::failed);
    CHECK(broken->result->exit_code == 4);
    CHECK(broken->result->error == "broken: exit status 4: nope");
}

TEST_CASE("agent registry: --no-shell removes shell and exec, names are canonical") {
    temp_dir dir;
    auto full = make_registry({false, {}, {dir.path}, dir.path, nullptr, nullptr, {}});
    CHECK(full.find("shell"));
    CHECK(full.find("system:info"));
    CHECK(full.find("orbit:system.info") == full.find("system.info"));

    auto locked = make_registry({true, {}, {dir.path}, dir.path, nullptr, nullptr, {}});
    CHECK(locked.find("shell") == nullptr);
    CHECK(locked.find("exec") == nullptr);
    CHECK(locked.find("echo"));
}
