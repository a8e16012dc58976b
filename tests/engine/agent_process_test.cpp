// The process handlers (shell, exec) with real child processes.
#include <sys/prctl.h>

#include <catch2/catch.hpp>

#include "agent_test_support.hpp"
#include "engine/agent/builtin_handlers.hpp"
#include "engine/agent/child_process.hpp"

using namespace agent_test;

TEST_CASE("agent shell: output streams line by line while the process still runs") {
    io_fixture fx;
    auto shell = make_shell_handler();
    auto probe = std::make_shared<job_probe>();
    auto ctx = start_job(fx, *shell, "echo first; sleep 0.5; echo second", probe);

    REQUIRE(fx.run_until([&] { return !probe->lines.empty(); }));
    CHECK(probe->lines.front() == std::pair{output_stream::out, std::string("first")});
    CHECK_FALSE(probe->result.has_value());  // the first line came before the end

    REQUIRE(fx.run_until([&] { return probe->result.has_value(); }));
    CHECK(probe->finished_ms - probe->line_ms.front() >= 400);
    CHECK(probe->result->status == job_status::succeeded);
    CHECK(probe->result->exit_code == 0);
    CHECK(probe->result->output == "first\nsecond");
    CHECK(probe->texts(output_stream::out) == std::vector<std::string>{"first", "second"});
}

TEST_CASE("agent shell: the exit status decides success and is reported") {
    io_fixture fx;
    auto shell = make_shell_handler();
    auto probe = run_job(fx, *shell, "echo partial; echo 'it broke' >&2; exit 3");
    REQUIRE(probe->result);
    CHECK(probe->result->status == job_status::failed);
    CHECK(probe->result->exit_code == 3);
    CHECK(probe->result->output == "partial");
    CHECK(probe->result->error == "shell: exit status 3: it broke");
    CHECK(probe->texts(output_stream::err) == std::vector<std::string>{"it broke"});
}

TEST_CASE("agent shell: the job's identity is in its environment") {
    io_fixture fx;
    auto shell = make_shell_handler();
    auto probe = run_job(fx, *shell,
                         "echo $ORBITMESH_ATTEMPT $ORBITMESH_IDEMPOTENCY_KEY; test -n \"$ORBITMESH_JOB_ID\"");
    REQUIRE(probe->result);
    CHECK(probe->result->status == job_status::succeeded);
    CHECK(probe->result->output == "2 key-42");
}

TEST_CASE("agent shell: an object payload sets env, cwd and stdin") {
    io_fixture fx;
    temp_dir dir;
    auto shell = make_shell_handler();
    json payload{{"script", "read line; echo \"$line/$GREETING/$(pwd)\""},
                 {"env", {{"GREETING", "hello"}, {"ORBITMESH_JOB_ID", "forged"}}},
                 {"cwd", dir.path.string()},
                 {"stdin", "from-stdin\n"}};
    auto probe = run_job(fx, *shell, payload);
    REQUIRE(probe->result);
    CHECK(probe->result->status == job_status::succeeded);
    CHECK(probe->result->output == "from-stdin/hello/" + fs::canonical(dir.path).string());
}

TEST_CASE("agent shell: a missing working directory fails with a clear error") {
    io_fixture fx;
    auto shell = make_shell_handler();
    auto probe = run_job(fx, *shell, json{{"script", "true"}, {"cwd", "/nonexistent/orbitmesh"}});
    REQUIRE(probe->result);
    CHECK(probe->result->status == job_status::failed);
    CHECK_THAT(probe->result->error, Catch::Contains("working directory \"/nonexistent/orbitmesh\""));
}

TEST_CASE("agent shell: output without a final newline and a killed process") {
    io_fixture fx;
    auto shell = make_shell_handler();
    auto probe = run_job(fx, *shell, "printf abc");
    REQUIRE(probe->result);
    CHECK(probe->result->output == "abc");
    CHECK(probe->texts(output_stream::out) == std::vector<std::string>{"abc"});

    auto killed = run_job(fx, *shell, "kill -9 $$");
    REQUIRE(killed->result);
    CHECK(killed->result->status == job_status::failed);
    CHECK(killed->result->exit_code == 137);
    CHECK_THAT(killed->result->error, Catch::Contains("killed by signal 9 (SIGKILL)"));
}

TEST_CASE("agent shell: background leftovers are killed when the main process exits") {
    io_fixture fx;
    auto shell = make_shell_handler();
    auto probe = run_job(fx, *shell, "sleep 600 & echo $!");
    REQUIRE(probe->result);
    CHECK(probe->result->status == job_status::succeeded);
    int pid = std::stoi(probe->result->output.get<std::string>());
    CHECK(fx.run_until([&] { return !process_alive(pid); }, 2s));
}

TEST_CASE("agent exec: runs argv without a shell") {
    io_fixture fx;
    auto exec = make_exec_handler();
    auto probe = run_job(fx, *exec, json::array({"echo", "a  b", "$HOME"}));
    REQUIRE(probe->result);
    CHECK(probe->result->status == job_status::succeeded);
    CHECK(probe->result->output == "a  b $HOME");

    auto obj = run_job(fx, *exec, json{{"argv", {"sh", "-c", "echo $X"}}, {"env", {{"X", 5}}}});
    REQUIRE(obj->result);
    CHECK(obj->result->output == "5");
}

TEST_CASE("agent exec: a missing program fails with 127 and says why") {
    io_fixture fx;
    auto exec = make_exec_handler();
    auto probe = run_job(fx, *exec, json::array({"orbitmesh-no-such-program", "x"}));
    REQUIRE(probe->result);
    CHECK(probe->result->status == job_status::failed);
    CHECK(probe->result->exit_code == 127);
    CHECK(probe->result->error ==
          "exec: cannot run \"orbitmesh-no-such-program\": No such file or directory");
}

TEST_CASE("agent exec: a bad payload fails the job with the accepted forms") {
    io_fixture fx;
    auto exec = make_exec_handler();
    auto probe = run_job(fx, *exec, json{{"nope", 1}});
    REQUIRE(probe->result);
    CHECK(probe->result->status == job_status::failed);
    CHECK_THAT(probe->result->error, Catch::StartsWith("exec: payload must be"));
}

TEST_CASE("agent shell: a stop terminates the process group within the grace period") {
    io_fixture fx;
    auto shell = make_shell_handler();
    auto probe = std::make_shared<job_probe>();
    auto ctx = start_job(fx, *shell, "sleep 600 & echo $!; wait", probe);
    REQUIRE(fx.run_until([&] { return !probe->lines.empty(); }));
    int background = std::stoi(probe->lines.front().second);
    REQUIRE(process_alive(background));

    auto asked = now_ms();
    ctx->request_stop(5000);
    REQUIRE(fx.run_until([&] { return probe->result.has_value(); }, 5s));
    CHECK(probe->finished_ms - asked < 2000);  // SIGTERM was enough, no need for the grace period
    CHECK(probe->result->exit_code == 143);
    CHECK(fx.run_until([&] { return !process_alive(background); }, 2s));
}

TEST_CASE("agent shell: a process ignoring SIGTERM is killed after the grace period") {
    io_fixture fx;
    auto shell = make_shell_handler();
    auto probe = std::make_shared<job_probe>();
    auto ctx = start_job(fx, *shell, "trap '' TERM; echo ready; sleep 600", probe);
    REQUIRE(fx.run_until([&] { return !probe->lines.empty(); }));

    auto asked = now_ms();
    ctx->request_stop(300);
    REQUIRE(fx.run_until([&] { return probe->result.has_value(); }, 5s));
    CHECK(probe->finished_ms - asked >= 250);
    CHECK(probe->finished_ms - asked < 3000);
    CHECK(probe->result->exit_code == 137);
}

TEST_CASE("agent: orphans re-parented to the agent are reaped, owned children are left alone") {
    // The agent is PID 1 in many containers; a subreaper gets orphans the same way.
    REQUIRE(::prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
    io_fixture fx;
    auto shell = make_shell_handler();
    auto running = std::make_shared<job_probe>();
    auto ctx = start_job(fx, *shell, "echo started; sleep 600", running);
    REQUIRE(fx.run_until([&] { return !running->lines.empty(); }));

    auto probe = run_job(fx, *shell, "sleep 600 & echo $!");  // its leftover is killed at exit
    REQUIRE(probe->result);
    int orphan = std::stoi(probe->result->output.get<std::string>());
    REQUIRE(fx.run_until([&] { return !process_alive(orphan); }, 2s));
    CHECK(::kill(orphan, 0) == 0);  // a zombie, re-parented here

    child_process::reap_orphans();
    CHECK(::kill(orphan, 0) == -1);
    CHECK_FALSE(running->result.has_value());  // the running job's own child was not touched
    ctx->request_stop(5000);
    REQUIRE(fx.run_until([&] { return running->result.has_value(); }));
    CHECK(running->result->exit_code == 143);
    ::prctl(PR_SET_CHILD_SUBREAPER, 0);
}
