#include "engine/agent/job_containment.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <set>
#include <system_error>
#include <thread>
#include <utility>

#include "core/clock.hpp"
#include "engine/agent/agent_log.hpp"
#include "engine/agent/proc_scan.hpp"

namespace orbitmesh::engine::agent {

namespace fs = std::filesystem;

namespace {

// How long one job's leftovers get to disappear after SIGKILL, at job end and at start-up.
constexpr std::int64_t end_wait_ms = 1000;
constexpr std::int64_t leftover_wait_ms = 3000;
// Scans of /proc at start-up: each kills what it finds, the next catches what forked meanwhile.
constexpr int leftover_rounds = 5;
constexpr auto gone_poll = std::chrono::milliseconds(5);

int open_write(const fs::path& p) { return ::open(p.c_str(), O_WRONLY | O_CLOEXEC); }

using job_attempt = std::pair<std::string, std::string>;  // ORBITMESH_JOB_ID, ORBITMESH_ATTEMPT

/// Processes of the recorded attempts: the recorded leader (same PID and start time, so not a
/// reused PID) or any process whose environment names one of the attempts (the agent sets
/// ORBITMESH_JOB_ID and ORBITMESH_ATTEMPT, and a payload cannot override them). Returns, per
/// record, the matching live processes.
std::vector<std::vector<proc_info>> find_processes(const std::vector<job_record>& records) {
    std::map<job_attempt, std::size_t> by_identity;
    std::map<pid_t, std::size_t> by_leader;
    for (std::size_t i = 0; i < records.size(); ++i) {
        by_identity[{records[i].job_id, std::to_string(records[i].attempt)}] = i;
        if (records[i].pgid > 0) by_leader[static_cast<pid_t>(records[i].pgid)] = i;
    }
    static const std::vector<std::string> keys{"ORBITMESH_JOB_ID", "ORBITMESH_ATTEMPT"};
    std::vector<std::vector<proc_info>> found(records.size());
    const pid_t self = ::getpid();
    for (const auto& p : list_procs()) {
        if (p.state == 'Z' || p.pid == self) continue;
        if (auto l = by_leader.find(p.pid);
            l != by_leader.end() && records[l->second].start_time == p.start_time) {
            found[l->second].push_back(p);
            continue;
        }
        auto v = environ_values(p.pid, keys);
        if (auto it = by_identity.find({v[0], v[1]}); !v[0].empty() && it != by_identity.end())
            found[it->second].push_back(p);
    }
    return found;
}

/// SIGKILL to every found process and its whole group (never the agent's own group), then waits
/// until they are gone, in rounds; returns how many were killed per record.
std::vector<std::size_t> kill_recorded(const std::vector<job_record>& records, std::int64_t wait_ms) {
    std::vector<std::set<pid_t>> killed(records.size());
    const auto deadline = core::steady_ms() + wait_ms;
    const pid_t own_group = ::getpgrp();
    for (int round = 0; round < leftover_rounds && !records.empty(); ++round) {
        auto found = find_processes(records);
        std::vector<pid_t> victims;
        for (std::size_t i = 0; i < found.size(); ++i)
            for (const auto& p : found[i]) {
                if (p.pgrp > 1 && p.pgrp != own_group) ::kill(-p.pgrp, SIGKILL);
                ::kill(p.pid, SIGKILL);
                killed[i].insert(p.pid);
                victims.push_back(p.pid);
            }
        if (victims.empty()) break;
        auto alive = [&] {
            for (auto pid : victims)
                if (proc_alive(pid)) return true;
            return false;
        };
        while (alive() && core::steady_ms() < deadline) std::this_thread::sleep_for(gone_poll);
    }
    std::vector<std::size_t> counts;
    for (const auto& k : killed) counts.push_back(k.size());
    return counts;
}

}  // namespace

containment_ticket::containment_ticket(containment_ticket&& o) noexcept { *this = std::move(o); }

containment_ticket& containment_ticket::operator=(containment_ticket&& o) noexcept {
    if (this == &o) return *this;
    close_fds();
    active = std::exchange(o.active, false);
    record_file = std::move(o.record_file);
    record = std::move(o.record);
    cgroup_procs_fd = std::exchange(o.cgroup_procs_fd, -1);
    cgroup_kill_fd = std::exchange(o.cgroup_kill_fd, -1);
    record_fd = std::exchange(o.record_fd, -1);
    return *this;
}

void containment_ticket::close_fds() noexcept {
    if (cgroup_procs_fd >= 0) ::close(cgroup_procs_fd);
    if (cgroup_kill_fd >= 0) ::close(cgroup_kill_fd);
    cgroup_procs_fd = cgroup_kill_fd = -1;
}

containment_ticket::~containment_ticket() {
    close_fds();
    if (record_fd >= 0) ::close(record_fd);
}

job_containment::job_containment(const options& o) : records_(o.records_dir), boot_id_(current_boot_id()) {
    if (o.cgroups)
        tree_ = cgroup_tree::open(o.agent_id, why_no_cgroups_);
    else
        why_no_cgroups_ = "--cgroups off";
    if (o.fork_server) {
        spawner_ = fork_server::start(tree_ ? tree_->dir() : fs::path());
        if (!spawner_) log_line("cannot start the fork server: job supervisors are forked from the agent");
    }
}

job_containment::~job_containment() {
    if (tree_) tree_->remove_if_empty();
}

std::string job_containment::describe() const {
    if (!tree_) return "a supervised process group per job (no cgroups: " + why_no_cgroups_ + ")";
    return "a supervised process group and a cgroup v2 per job, in " + tree_->dir().string() +
           (tree_->has_kill() ? "" : " (no cgroup.kill: its processes are killed one by one)");
}

containment_ticket job_containment::begin(const std::string& job_id, int attempt) {
    containment_ticket t;
    t.active = true;
    t.record_file = records_.file_for(job_id, attempt);
    t.record.job_id = job_id;
    t.record.attempt = attempt;
    t.record.boot_id = boot_id_;
    if (tree_) {
        std::string error;
        auto dir = tree_->create("job-" + t.record_file.filename().string(), error);
        if (!dir.empty()) {
            t.cgroup_procs_fd = open_write(dir / "cgroup.procs");
            if (tree_->has_kill()) t.cgroup_kill_fd = open_write(dir / "cgroup.kill");
            if (t.cgroup_procs_fd < 0) error = "cannot open \"" + (dir / "cgroup.procs").string() + "\"";
        }
        if (t.cgroup_procs_fd >= 0) {
            t.record.cgroup = dir.string();
        } else {
            log_line("job " + job_id + " runs without a cgroup: " + error);
            if (!dir.empty()) kill_cgroup(dir, 0);
            t.close_fds();
        }
    }
    std::string err;
    t.record_fd = records_.create(t.record_file, t.record, err);
    if (t.record_fd < 0)
        log_line("job " + job_id + ": " + err +
                 "; a crash of the agent and its supervisor could leave its processes behind");
    return t;
}

void job_containment::started(containment_ticket& t, pid_t pgid) {
    if (!t.active) return;
    t.record.pgid = pgid;
    // Safe to read: the supervisor keeps the leader unreaped, so this PID is still the job's.
    if (auto p = read_proc(pgid)) t.record.start_time = p->start_time;
    if (t.record_fd < 0) return;
    if (auto err = records_.rewrite(t.record_fd, t.record_file, t.record); !err.empty())
        log_line("job " + t.record.job_id + ": " + err);
}

void job_containment::end(containment_ticket& t, bool supervisor_lost) {
    t.close_fds();
    if (!t.active) return;
    t.active = false;
    if (supervisor_lost && t.record.pgid > 0) kill_recorded({t.record}, end_wait_ms);
    if (!t.record.cgroup.empty()) kill_cgroup(t.record.cgroup, end_wait_ms);
    records_.remove(t.record_file);
    if (t.record_fd >= 0) ::close(t.record_fd);
    t.record_fd = -1;
}

std::vector<job_containment::leftover> job_containment::kill_leftovers() {
    std::vector<leftover> out;
    std::vector<job_record> live;
    std::vector<fs::path> files;
    for (auto& [file, rec] : records_.load_all()) {
        if (!rec) {
            log_line("ignoring the unreadable record \"" + file.string() + "\"");
            records_.remove(file);
            continue;
        }
        if (rec->boot_id != boot_id_) {  // the machine restarted since: nothing of it is left
            out.push_back({rec->job_id, rec->attempt, 0});
            records_.remove(file);
            continue;
        }
        live.push_back(std::move(*rec));
        files.push_back(file);
    }
    // The cgroup first (one write kills it all), then what the recorded group and a scan find.
    std::vector<std::size_t> in_cgroup;
    for (const auto& r : live) in_cgroup.push_back(r.cgroup.empty() ? 0 : kill_cgroup(r.cgroup, leftover_wait_ms));
    auto counts = kill_recorded(live, leftover_wait_ms);
    for (std::size_t i = 0; i < live.size(); ++i) {
        out.push_back({live[i].job_id, live[i].attempt, in_cgroup[i] + counts[i]});
        records_.remove(files[i]);
    }
    // Every cgroup of this agent is an earlier run's (one agent per data dir, so per agent id).
    std::error_code ec;
    if (tree_)
        for (const auto& e : fs::directory_iterator(tree_->dir(), ec))
            if (e.is_directory(ec)) kill_cgroup(e.path(), leftover_wait_ms);
    return out;
}

}  // namespace orbitmesh::engine::agent
