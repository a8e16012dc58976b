#include "cli/job_follow.hpp"

#include <cstdio>
#include <iostream>
#include <unistd.h>

#include "cli/output.hpp"
#include "core/exit_code.hpp"

namespace orbitmesh::cli {

namespace {

bool terminal_state(const std::string& s) {
    return s == "succeeded" || s == "failed" || s == "cancelled" || s == "timed_out" || s == "dead";
}

void progress_line(const core::json& job, bool& shown) {
    // Built with append: GCC 12 -O3 warns falsely (-Wrestrict) on long operator+ chains here.
    std::string line = "\r\033[K";
    line.append(job.value("id", std::string{}).substr(0, 13)).append("... ").append(job.value("state", std::string{}));
    if (int attempt = job.value("attempt", 0); attempt > 0) line.append(" (attempt ").append(std::to_string(attempt)).append(")");
    if (job["agent"].is_object()) line.append(" on ").append(job["agent"].value("name", std::string{}));
    if (job["progress"].is_object()) {
        line.append(" ").append(std::to_string(static_cast<int>(job["progress"].value("percent", 0.0)))).append("% ");
        line.append(job["progress"].value("message", std::string{}));
    }
    std::fputs(line.c_str(), stderr);
    std::fflush(stderr);
    shown = true;
}

void tell_pending(const core::json& job, const std::string& id, bool& shown, std::string& told) {
    auto reason = job.value("pending_reason", std::string{});
    if (job.value("state", std::string{}) != "pending" || reason.empty() || reason == told) return;
    if (shown) std::fputs("\r\033[K", stderr);
    shown = false;
    told = reason;
    std::string line = "orbitmesh: job " + id + " is still pending: " + reason + "\n";
    std::fputs(line.c_str(), stderr);
    std::fflush(stderr);
}

}  // namespace

core::json wait_for_job(api_client& api, const std::string& job_id, bool quiet) {
    bool live = isatty(STDOUT_FILENO) && isatty(STDERR_FILENO);
    bool shown = false;
    std::string told;  // the pending reason last printed
    // Each poll is held by the hub up to 2 s (or 25 s when nobody is watching), so this loop is
    // cheap; it ends when the job does. The first is held 3 s: a job still pending then is one
    // nobody may ever take, and stderr says why (SPEC: nothing waits silently).
    std::string base = "/api/v1/jobs/" + url_encode(job_id) + "?wait=";
    std::string target = base + "3s";
    for (int poll = 0;; ++poll) {
        auto job = api.get(target, std::chrono::seconds(60));
        if (terminal_state(job.value("state", std::string{}))) {
            if (shown) std::fputs("\r\033[K", stderr);
            return job;
        }
        if (!quiet) tell_pending(job, job_id, shown, told);
        if (live) progress_line(job, shown);
        target = base + (live ? "2s" : "25s");
    }
}

void print_logs(api_client& api, const std::string& job_id, bool follow, bool ndjson) {
    std::int64_t after = 0;
    for (;;) {
        std::string target = "/api/v1/jobs/" + url_encode(job_id) + "/logs?after=" + std::to_string(after) +
                             (follow ? "&wait=25s" : "");
        auto page = api.get(target, std::chrono::seconds(60));
        for (const auto& l : page["lines"]) {
            if (ndjson) print_json(l, true);
            else std::cout << l.value("data", std::string{}) << '\n';
        }
        std::cout.flush();
        after = page.value("next", after);
        bool done = page.value("done", false);
        if (page["lines"].empty() && (!follow || done)) return;
        if (!follow && page["lines"].empty()) return;
    }
}

int exit_code_for_state(const std::string& state) {
    if (state == "succeeded") return core::exit_ok;
    if (state == "timed_out") return core::exit_timeout;
    if (state == "cancelled") return core::exit_cancelled;
    return core::exit_failed;
}

void print_job(const core::json& job, const std::string& format) {
    if (format != "table") return print_json(job, format == "ndjson");
    std::string agent = job["agent"].is_object() ? job["agent"].value("name", std::string{}) + " (" +
                                                       job["agent"].value("id", std::string{}) + ")"
                                                 : "-";
    std::vector<std::vector<std::string>> rows = {
        {"id", cell(job, "id")},          {"state", cell(job, "state")},
        {"command", cell(job, "command")}, {"attempt", cell(job, "attempt")},
        {"agent", agent},                 {"exit_code", cell(job, "exit_code")},
        {"created", cell(job, "created_at")}, {"finished", cell(job, "finished_at")},
    };
    if (job["progress"].is_object())
        rows.push_back({"progress", std::to_string(static_cast<int>(job["progress"].value("percent", 0.0))) + "% " +
                                        job["progress"].value("message", std::string{})});
    if (!job.value("pending_reason", std::string{}).empty()) rows.push_back({"pending", job["pending_reason"].get<std::string>()});
    if (!job.value("error", std::string{}).empty()) rows.push_back({"error", job["error"].get<std::string>()});
    if (!job["output"].is_null()) rows.push_back({"output", output_text(job["output"])});
    print_table({"FIELD", "VALUE"}, rows);
}

}  // namespace orbitmesh::cli
