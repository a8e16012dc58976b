// spawn_bench: what containing a job's processes costs per job (issue 15). Runs `sh -c true`
// N times, C at once: a bare posix_spawn + waitpid (the floor); child_process with a supervisor
// forked from this multithreaded process and no containment (what engine tests do); with the
// supervisor forked by a fork server and the data-dir record (`agent --cgroups off`); and with
// a cgroup v2 per job as well, where this machine allows one (what `orbitmesh agent` does).
//
//   spawn_bench [--jobs N] [--concurrency N] [--json FILE]
//
// Prints one JSON object on stdout (or to --json FILE) and a one-line summary on stderr; exits 1
// when a job fails, 2 on bad flags.
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/json.hpp"
#include "engine/agent/child_process.hpp"
#include "engine/agent/job_containment.hpp"

using namespace orbitmesh;
using namespace orbitmesh::engine::agent;

namespace {

struct options {
    int jobs = 2000;
    int concurrency = 4;
    std::string json_file;
};

[[noreturn]] void usage(const std::string& why) {
    std::fprintf(stderr, "spawn_bench: error: %s\nusage: spawn_bench [--jobs N] [--concurrency N] [--json FILE]\n",
                 why.c_str());
    std::exit(2);
}

int positive(const std::string& flag, const char* value) {
    char* end = nullptr;
    long v = std::strtol(value, &end, 10);
    if (*value == '\0' || *end != '\0' || v < 1 || v > 1'000'000)
        usage(flag + " needs a positive whole number, got \"" + value + "\"");
    return static_cast<int>(v);
}

options parse(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&]() -> const char* {
            if (i + 1 >= argc) usage(a + " needs a value");
            return argv[++i];
        };
        if (a == "--jobs") o.jobs = positive(a, value());
        else if (a == "--concurrency") o.concurrency = positive(a, value());
        else if (a == "--json") o.json_file = value();
        else usage("unknown flag " + a);
    }
    return o;
}

/// CPU seconds of this process and of every child it (and they) reaped: what the jobs cost,
/// whatever else the machine is doing meanwhile.
double cpu_seconds() {
    auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
    rusage self{}, kids{};
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &kids);
    return secs(self.ru_utime) + secs(self.ru_stime) + secs(kids.ru_utime) + secs(kids.ru_stime);
}

struct pool_result {
    double per_second = 0;
    double cpu_us_per_job = 0;
    int failures = 0;
};

/// Runs `one(done)` `jobs` times with at most `concurrency` in flight; `finish` runs after the
/// last one and before the CPU time is read.
pool_result run_pool(const options& o, const std::function<void(std::function<void(bool)>)>& one,
                     const std::function<void()>& finish = {}) {
    std::mutex mu;
    std::condition_variable cv;
    int in_flight = 0, finished = 0, failures = 0;
    const double cpu0 = cpu_seconds();
    auto t0 = std::chrono::steady_clock::now();
    for (int started = 0; started < o.jobs; ++started) {
        {
            std::unique_lock lock(mu);
            cv.wait(lock, [&] { return in_flight < o.concurrency; });
            ++in_flight;
        }
        one([&](bool ok) {
            std::lock_guard lock(mu);
            --in_flight;
            ++finished;
            if (!ok) ++failures;
            cv.notify_all();
        });
    }
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return finished == o.jobs; });
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    lock.unlock();
    if (finish) finish();
    return {o.jobs / wall, (cpu_seconds() - cpu0) * 1e6 / o.jobs, failures};
}

/// A bare posix_spawn + waitpid on a thread of its own, as the floor.
void bare_one(std::function<void(bool)> done) {
    std::thread([done = std::move(done)] {
        static char sh[] = "/bin/sh", c[] = "-c", t[] = "true";
        char* argv[] = {sh, c, t, nullptr};
        char* envp[] = {nullptr};
        pid_t pid;
        int status = 0;
        bool ok = posix_spawn(&pid, sh, nullptr, nullptr, argv, envp) == 0 && waitpid(pid, &status, 0) == pid &&
                  WIFEXITED(status) && WEXITSTATUS(status) == 0;
        done(ok);
    }).detach();
}

/// child_process objects are destroyed off their own watcher thread (the destructor joins it).
struct reaper {
    std::mutex mu;
    std::vector<std::shared_ptr<child_process>> done;
    void add(std::shared_ptr<child_process> c) {
        std::lock_guard lock(mu);
        done.push_back(std::move(c));
    }
    void clear() {
        std::vector<std::shared_ptr<child_process>> old;
        {
            std::lock_guard lock(mu);
            old.swap(done);
        }
    }
};

void child_one(const std::shared_ptr<job_containment>& containment, reaper& r, int n, std::function<void(bool)> done) {
    spawn_plan plan{{"/bin/sh", "-c", "true"}, false, {"PATH=/usr/bin:/bin"}, {}, std::nullopt,
                    "bench-" + std::to_string(n), 1};
    auto holder = std::make_shared<std::shared_ptr<child_process>>();
    auto on_exit = [holder, &r, done = std::move(done)](process_exit ex) {
        r.add(std::move(*holder));
        done(ex.spawned && ex.exit_code == 0);
    };
    *holder = std::make_shared<child_process>(std::move(plan), containment, nullptr, std::move(on_exit));
}

double round1(double v) { return static_cast<double>(static_cast<long long>(v * 10 + 0.5)) / 10; }

}  // namespace

int main(int argc, char** argv) {
    const options o = parse(argc, argv);
    std::string tmpl = (std::filesystem::temp_directory_path() / "orbitmesh-spawn-bench-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) usage("cannot create a temp dir");
    const std::filesystem::path dir = tmpl;
    const std::string id = "spawn-bench-" + std::to_string(getpid());
    reaper r;
    int n = 0;
    const auto bare = run_pool(o, bare_one);
    // Each containment gets a fork server of its own, reaped before the CPU time is read, so the
    // supervisors' and jobs' time counts (they are its children, not ours).
    auto with = [&](bool contained, bool cgroups, std::string& how, bool& had_cgroups) {
        std::shared_ptr<job_containment> c;
        if (contained) {
            c = std::make_shared<job_containment>(
                job_containment::options{dir / (cgroups ? "cgroups" : "records"), id, cgroups, true});
            if (!c->spawner()) usage("cannot start a fork server");
            how = c->describe();
            had_cgroups = c->uses_cgroups();
        }
        auto res = run_pool(o, [&](auto done) {
            r.clear();
            child_one(c, r, n++, std::move(done));
        }, [&] {
            r.clear();
            c.reset();  // the last owner of the fork server: it exits and is reaped
        });
        return res;
    };
    std::string how, ignored;
    bool cgroups = false, ignored_flag = false;
    const auto supervised = with(false, false, ignored, ignored_flag);
    const auto recorded = with(true, false, ignored, ignored_flag);
    const auto contained = with(true, true, how, cgroups);
    std::filesystem::remove_all(dir);
    const int failures = bare.failures + supervised.failures + recorded.failures + contained.failures;
    auto mode = [](const pool_result& p) {
        return nlohmann::ordered_json{{"per_s", round1(p.per_second)}, {"cpu_us_per_job", round1(p.cpu_us_per_job)}};
    };

    nlohmann::ordered_json out{
        {"system", "orbitmesh"},
        {"name", "job_spawn"},
        {"metric", "contained_jobs_per_second"},
        {"value", round1(contained.per_second)},
        {"unit", "jobs/s"},
        {"config", {{"jobs", o.jobs}, {"concurrency", o.concurrency}, {"command", "sh -c true"}, {"cgroups", cgroups}}},
        {"machine", {{"cores", sysconf(_SC_NPROCESSORS_ONLN)}}},
        {"commit", ORBITMESH_COMMIT},
        {"extra",
         {{"bare_posix_spawn", mode(bare)},
          {"supervised_forked_here", mode(supervised)},
          {"recorded", mode(recorded)},
          {"contained", mode(contained)},
          {"containment", how},
          {"failures", failures}}}};
    const std::string text = out.dump() + "\n";
    if (o.json_file.empty()) std::fwrite(text.data(), 1, text.size(), stdout);
    else std::ofstream(o.json_file) << text;
    std::fprintf(stderr,
                 "job_spawn: %d x `sh -c true`, %d at once: jobs/s (CPU us per job) bare posix_spawn %.0f (%.0f), "
                 "supervisor forked here %.0f (%.0f), fork server + record %.0f (%.0f), + record%s %.0f (%.0f)\n",
                 o.jobs, o.concurrency, bare.per_second, bare.cpu_us_per_job, supervised.per_second,
                 supervised.cpu_us_per_job, recorded.per_second, recorded.cpu_us_per_job,
                 cgroups ? " + cgroup" : " (no cgroups here)", contained.per_second, contained.cpu_us_per_job);
    return failures == 0 ? 0 : 1;
}
