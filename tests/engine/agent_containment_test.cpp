// No job process outlives its agent: the supervisor, the data-dir records and cgroups, with real
// processes. The agent's own death is the supervisor's control pipe reaching EOF, which the
// tests cause by closing it; the e2e suite kills real agents.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <thread>

#include "agent_test_support.hpp"
#include "core/error.hpp"
#include "engine/agent/builtin_handlers.hpp"
#include "engine/agent/data_dir_lock.hpp"
#include "engine/agent/fork_server.hpp"
#include "engine/agent/job_containment.hpp"
#include "engine/agent/job_supervisor.hpp"
#include "engine/agent/proc_scan.hpp"

using namespace agent_test;

namespace {

/// `argv` in a session of its own (so its own process group) with exactly `env`; the caller
/// reaps it with reap().
pid_t spawn_detached(std::vector<std::string> argv, std::vector<std::string> env) {
    std::vector<char*> a, e;
    for (auto& s : argv) a.push_back(s.data());
    for (auto& s : env) e.push_back(s.data());
    a.push_back(nullptr);
    e.push_back(nullptr);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
    pid_t pid = -1;
    int rc = posix_spawn(&pid, a[0], nullptr, &attr, a.data(), e.data());
    posix_spawnattr_destroy(&attr);
    REQUIRE(rc == 0);
    return pid;
}

void reap(pid_t pid) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
}

/// Containment with a records dir under `dir` and an agent id unique to this test process.
std::shared_ptr<job_containment> make_containment(const fs::path& dir, const std::string& name, bool cgroups) {
    auto id = name + "-" + std::to_string(::getpid());
    return std::make_shared<job_containment>(job_containment::options{dir / "running", id, cgroups, false});
}

/// The one record in `records` once it has the job's group id (bounded).
std::optional<job_record> wait_for_group_record(io_fixture& fx, const job_records& records) {
    std::optional<job_record> rec;
    fx.run_until([&] {
        auto all = records.load_all();
        if (all.size() == 1 && all.front().second && all.front().second->pgid != 0) rec = all.front().second;
        return rec.has_value();
    });
    return rec;
}

bool gone_within(int pid, std::chrono::milliseconds limit) {
    auto deadline = steady::now() + limit;
    while (process_alive(pid) && steady::now() < deadline) std::this_thread::sleep_for(5ms);
    return !process_alive(pid);
}

/// Reads reports until one of `kind` arrives (bounded).
std::optional<supervisor_report> next_report(int fd, std::int32_t kind) {
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    auto deadline = steady::now() + 10s;
    supervisor_report r;
    std::size_t have = 0;
    while (steady::now() < deadline) {
        auto n = ::read(fd, reinterpret_cast<char*>(&r) + have, sizeof r - have);
        if (n == 0) return std::nullopt;
        if (n > 0) have += static_cast<std::size_t>(n);
        if (have == sizeof r) {
            if (r.kind == kind) return r;
            have = 0;
        }
        if (n < 0) std::this_thread::sleep_for(2ms);
    }
    return std::nullopt;
}

/// A shell script run under a bare supervisor, with its stdout in a pipe.
struct supervised_script {
    supervisor_handle sup;
    int out = -1;
    explicit supervised_script(const std::string& script) {
        int p[2];
        REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
        int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        std::vector<std::string> argv{"/bin/sh", "-c", script}, env{"PATH=/usr/bin:/bin"};
        std::vector<char*> a{argv[0].data(), argv[1].data(), argv[2].data(), nullptr};
        std::vector<char*> e{env[0].data(), nullptr};
        supervisor_launch l;
        l.path = "/bin/sh";
        l.argv = a.data();
        l.envp = e.data();
        l.stdin_fd = null_fd;
        l.stdout_fd = p[1];
        l.stderr_fd = p[1];
        REQUIRE(start_supervisor(l, sup) == 0);
        ::close(p[1]);
        ::close(null_fd);
        out = p[0];
    }
    /// The first line the script printed (a PID), read with a deadline.
    int first_number() {
        std::string text;
        auto deadline = steady::now() + 10s;
        char c;
        while (steady::now() < deadline && ::read(out, &c, 1) == 1 && c != '\n') text.push_back(c);
        return std::stoi(text);
    }
    ~supervised_script() {
        if (sup.control_fd >= 0) ::close(sup.control_fd);
        ::waitpid(sup.pid, nullptr, 0);
        ::close(sup.status_fd);
        ::close(out);
    }
};

}  // namespace

TEST_CASE("agent supervisor: the agent going away kills the job's whole group, background children included") {
    supervised_script s("sleep 30 & echo $!; sleep 30");
    auto started = next_report(s.sup.status_fd, supervisor_report::started);
    REQUIRE(started);
    int background = s.first_number();
    REQUIRE(process_alive(started->pid));
    REQUIRE(process_alive(background));
    CHECK(read_proc(background)->pgrp == started->pid);  // the shell leads the job's own group

    ::close(s.sup.control_fd);  // what the agent's death does
    s.sup.control_fd = -1;
    CHECK(gone_within(started->pid, 2s));
    CHECK(gone_within(background, 2s));
    auto exited = next_report(s.sup.status_fd, supervisor_report::exited);
    REQUIRE(exited);
    CHECK(exited->signal == SIGKILL);
}

TEST_CASE("agent supervisor: the job's process dies with its supervisor (PR_SET_PDEATHSIG)") {
    supervised_script s("echo $$; sleep 30");
    auto started = next_report(s.sup.status_fd, supervisor_report::started);
    REQUIRE(started);
    REQUIRE(process_alive(started->pid));
    ::kill(s.sup.pid, SIGKILL);
    CHECK(gone_within(started->pid, 2s));
}

TEST_CASE("agent supervisor: SIGTERM and SIGKILL reach the group on command; the exit is reported") {
    // The loop's stderr is quiet: the shell would report its SIGTERMed `sleep` there.
    supervised_script s("trap 'echo term' TERM; echo $$; while :; do sleep 0.05; done 2>/dev/null");
    auto started = next_report(s.sup.status_fd, supervisor_report::started);
    REQUIRE(started);
    s.first_number();
    REQUIRE(::write(s.sup.control_fd, &supervisor_terminate, 1) == 1);
    std::string line;
    char c;
    while (::read(s.out, &c, 1) == 1 && c != '\n') line.push_back(c);
    CHECK(line == "term");
    CHECK(process_alive(started->pid));  // it trapped SIGTERM
    REQUIRE(::write(s.sup.control_fd, &supervisor_kill, 1) == 1);
    auto exited = next_report(s.sup.status_fd, supervisor_report::exited);
    REQUIRE(exited);
    CHECK(exited->pid == started->pid);
    CHECK(exited->signal == SIGKILL);
}

TEST_CASE("agent supervisor: a program that cannot run is reported with the step that failed") {
    supervisor_handle sup;
    std::string path = "/nonexistent/orbitmesh-program";
    char* argv[] = {path.data(), nullptr};
    char* envp[] = {nullptr};
    supervisor_launch l;
    l.path = path.c_str();
    l.argv = argv;
    l.envp = envp;
    l.stdin_fd = l.stdout_fd = l.stderr_fd = -1;
    REQUIRE(start_supervisor(l, sup) == 0);
    auto failed = next_report(sup.status_fd, supervisor_report::spawn_failed);
    REQUIRE(failed);
    CHECK(failed->value == ENOENT);
    CHECK(failed->stage == supervisor_report::stage_exec);
    ::close(sup.control_fd);
    ::waitpid(sup.pid, nullptr, 0);
    ::close(sup.status_fd);

    std::string found;
    CHECK(resolve_program("sh", found) == 0);
    CHECK(found.size() > 3);
    CHECK(resolve_program("orbitmesh-no-such-program", found) == ENOENT);
}

TEST_CASE("agent containment: a running job is recorded with its group; the record goes when it ends") {
    io_fixture fx;
    temp_dir dir;
    auto containment = make_containment(dir.path, "t1", false);
    auto shell = make_shell_handler(containment);
    auto probe = std::make_shared<job_probe>();
    auto ctx = start_job(fx, *shell, "echo $$; sleep 30", probe);
    REQUIRE(fx.run_until([&] { return !probe->lines.empty(); }));
    int leader = std::stoi(probe->lines.front().second);

    job_records records(dir.path / "running");
    auto rec = wait_for_group_record(fx, records);
    REQUIRE(rec);
    CHECK(rec->pgid == leader);
    CHECK(rec->start_time == read_proc(leader)->start_time);
    CHECK(rec->attempt == 2);
    CHECK(rec->boot_id == current_boot_id());

    ctx->request_stop(1000);
    REQUIRE(fx.run_until([&] { return probe->result.has_value(); }));
    CHECK(records.load_all().empty());
}

TEST_CASE("agent containment: when a supervisor is killed from outside, its job's leftovers are killed") {
    io_fixture fx;
    temp_dir dir;
    auto containment = make_containment(dir.path, "t2", false);
    auto shell = make_shell_handler(containment);
    auto probe = std::make_shared<job_probe>();
    auto ctx = start_job(fx, *shell, "sleep 30 & echo $!; sleep 30", probe);
    REQUIRE(fx.run_until([&] { return !probe->lines.empty(); }));
    int background = std::stoi(probe->lines.front().second);
    job_records records(dir.path / "running");
    REQUIRE(wait_for_group_record(fx, records));
    // The supervisor is this process's child named om-supervisor.
    pid_t sup = 0;
    for (const auto& p : list_procs()) {
        std::ifstream comm("/proc/" + std::to_string(p.pid) + "/comm");
        std::string name;
        std::getline(comm, name);
        std::ifstream stat("/proc/" + std::to_string(p.pid) + "/stat");
        std::string text((std::istreambuf_iterator<char>(stat)), {});
        if (name == "om-supervisor" && std::stoi(text.substr(text.rfind(')') + 4)) == ::getpid()) sup = p.pid;
    }
    REQUIRE(sup > 0);
    ::kill(sup, SIGKILL);
    REQUIRE(fx.run_until([&] { return probe->result.has_value(); }));
    CHECK(probe->result->status == job_status::failed);
    CHECK_THAT(probe->result->error, Catch::Contains("supervisor was killed"));
    CHECK(gone_within(background, 2s));
    CHECK(records.load_all().empty());
}

TEST_CASE("agent containment: a restart kills what earlier runs left, and nothing that only reuses a PID") {
    temp_dir dir;
    job_records records(dir.path / "running");
    auto boot = current_boot_id();
    std::vector<std::string> plain{"PATH=/usr/bin:/bin"};
    // The recorded leader, still there (same PID, same start time).
    pid_t leader = spawn_detached({"/bin/sleep", "30"}, plain);
    // A process carrying a recorded attempt's identity, whose group was never recorded.
    pid_t marked = spawn_detached({"/bin/sleep", "31"}, {"ORBITMESH_JOB_ID=job-b", "ORBITMESH_ATTEMPT=3"});
    // A stranger with the recorded PID of a job whose leader started at another time.
    pid_t stranger = spawn_detached({"/bin/sleep", "32"}, plain);
    // Same job id, other attempt: not this record's.
    pid_t other_attempt = spawn_detached({"/bin/sleep", "33"}, {"ORBITMESH_JOB_ID=job-b", "ORBITMESH_ATTEMPT=4"});
    for (auto p : {leader, marked, stranger, other_attempt}) REQUIRE(process_alive(p));
    auto start_of = [](pid_t p) { return read_proc(p)->start_time; };
    CHECK(records.write(records.file_for("job-a", 1), {"job-a", 1, boot, leader, start_of(leader), ""}).empty());
    CHECK(records.write(records.file_for("job-b", 3), {"job-b", 3, boot, 0, 0, ""}).empty());
    CHECK(records.write(records.file_for("job-c", 1), {"job-c", 1, boot, stranger, start_of(stranger) + 1, ""}).empty());
    CHECK(records.write(records.file_for("job-d", 1), {"job-d", 1, "another-boot", 4242, 1, ""}).empty());
    { std::ofstream(records.dir() / "garbage.1") << "{not json"; }

    job_containment containment({records.dir(), "t3-" + std::to_string(::getpid()), false, false});
    auto lost = containment.kill_leftovers();
    std::map<std::string, std::size_t> killed;
    for (const auto& l : lost) killed[l.job_id + "/" + std::to_string(l.attempt)] = l.killed;
    CHECK(killed == std::map<std::string, std::size_t>{{"job-a/1", 1}, {"job-b/3", 1}, {"job-c/1", 0}, {"job-d/1", 0}});
    CHECK_FALSE(process_alive(leader));
    CHECK_FALSE(process_alive(marked));
    CHECK(process_alive(stranger));
    CHECK(process_alive(other_attempt));
    CHECK(records.load_all().empty());
    for (auto p : {leader, marked, stranger, other_attempt}) reap(p);
}

TEST_CASE("agent containment: with a cgroup, a process that left the job's group still ends with the job") {
    io_fixture fx;
    temp_dir dir;
    auto containment = make_containment(dir.path, "t4", true);
    if (!containment->uses_cgroups()) {
        WARN("cgroups v2 unavailable here, not tested: " << containment->describe());
        return;
    }
    auto shell = make_shell_handler(containment);
    auto probe = std::make_shared<job_probe>();
    auto ctx = start_job(fx, *shell, "setsid sleep 30 & echo $!; sleep 0.3", probe);
    REQUIRE(fx.run_until([&] { return !probe->lines.empty(); }));
    int escaped = std::stoi(probe->lines.front().second);
    fx.run_for(100ms);
    REQUIRE(read_proc(escaped));
    CHECK(read_proc(escaped)->pgrp == escaped);  // it left the job's process group
    REQUIRE(fx.run_until([&] { return probe->result.has_value(); }));
    CHECK(probe->result->status == job_status::succeeded);
    CHECK(gone_within(escaped, 2s));
    CHECK(containment->describe().find("cgroup v2") != std::string::npos);
}

TEST_CASE("agent data dir: a second agent on the same data dir is refused and named") {
    temp_dir dir;
    data_dir_lock first(dir.path / "agent");
    try {
        data_dir_lock second(dir.path / "agent");
        FAIL("the second lock was granted");
    } catch (const orbitmesh::core::error& e) {
        CHECK(e.kind() == orbitmesh::core::error_kind::storage);
        CHECK_THAT(e.what(), Catch::Contains("is in use by another agent (pid " + std::to_string(::getpid()) + ")"));
    }
}

TEST_CASE("agent shell: a second, shorter stop brings the SIGKILL closer") {
    io_fixture fx;
    auto shell = make_shell_handler();
    auto probe = std::make_shared<job_probe>();
    auto ctx = start_job(fx, *shell, "trap '' TERM; echo ready; sleep 600", probe);
    REQUIRE(fx.run_until([&] { return !probe->lines.empty(); }));
    auto asked = now_ms();
    ctx->request_stop(60'000);
    fx.run_for(200ms);
    CHECK_FALSE(probe->result.has_value());
    ctx->request_stop(0);
    REQUIRE(fx.run_until([&] { return probe->result.has_value(); }, 5s));
    CHECK(probe->finished_ms - asked < 3000);
    CHECK(probe->result->exit_code == 137);
}

TEST_CASE("agent fork server: it forks the supervisors, which still kill the job's group when the agent side closes") {
    auto server = fork_server::start();
    REQUIRE(server);
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    std::vector<std::string> argv{"/bin/sh", "-c", "sleep 30 & echo $!; sleep 30"}, env{"PATH=/usr/bin:/bin"};
    std::vector<char*> a{argv[0].data(), argv[1].data(), argv[2].data(), nullptr}, e{env[0].data(), nullptr};
    supervisor_launch l;
    l.path = "/bin/sh";
    l.argv = a.data();
    l.envp = e.data();
    l.stdout_fd = l.stderr_fd = p[1];
    supervisor_handle sup;
    REQUIRE(server->start_supervisor(l, sup) == 0);
    ::close(p[1]);
    CHECK(sup.pid == 0);  // the server's child, not ours
    auto started = next_report(sup.status_fd, supervisor_report::started);
    REQUIRE(started);
    std::string line;
    char c;
    while (::read(p[0], &c, 1) == 1 && c != '\n') line.push_back(c);
    int background = std::stoi(line);
    REQUIRE(process_alive(background));

    ::close(sup.control_fd);
    CHECK(gone_within(started->pid, 2s));
    CHECK(gone_within(background, 2s));
    auto exited = next_report(sup.status_fd, supervisor_report::exited);
    REQUIRE(exited);
    CHECK(exited->signal == SIGKILL);
    ::close(sup.status_fd);
    ::close(p[0]);

    const pid_t server_pid = server->pid();
    CHECK(process_alive(server_pid));
    server.reset();  // closing its socket ends it (and reaps it)
    CHECK_FALSE(process_alive(server_pid));
}

TEST_CASE("agent fork server: a request too big for one message is refused, to be forked locally") {
    auto server = fork_server::start();
    REQUIRE(server);
    std::string big(2u << 20, 'x');
    big.insert(0, "BIG=");
    std::vector<char*> a{const_cast<char*>("/bin/true"), nullptr}, e{big.data(), nullptr};
    supervisor_launch l;
    l.path = "/bin/true";
    l.argv = a.data();
    l.envp = e.data();
    supervisor_handle sup;
    CHECK(server->start_supervisor(l, sup) == EMSGSIZE);
    CHECK(process_alive(server->pid()));  // still serving
}

TEST_CASE("agent fork server: a job whose request does not fit is still run, forked by the agent") {
    io_fixture fx;
    temp_dir dir;
    auto containment = std::make_shared<job_containment>(
        job_containment::options{dir.path / "running", "t5-" + std::to_string(::getpid()), false, true});
    REQUIRE(containment->spawner());
    auto shell = make_shell_handler(containment);
    json env = json::object();
    for (int i = 0; i < 12; ++i) env["BIG" + std::to_string(i)] = std::string(100'000, 'x');  // 1.2 MB > 1 MiB
    auto probe = run_job(fx, *shell, json{{"script", "echo ${#BIG11}"}, {"env", env}});
    REQUIRE(probe->result);
    CHECK(probe->result->status == job_status::succeeded);
    CHECK(probe->result->output == "100000");
    auto small = run_job(fx, *shell, "echo small");
    REQUIRE(small->result);
    CHECK(small->result->output == "small");
}
