#include "engine/hub/metrics.hpp"

#include <string_view>

namespace orbitmesh::engine {

namespace {

void header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
    out.append("# HELP ").append(name).append(" ").append(help).append("\n");
    out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void sample(std::string& out, std::string_view name, const core::json& value, std::string_view labels = {}) {
    out.append(name);
    if (!labels.empty()) out.append("{").append(labels).append("}");
    out.append(" ").append(value.dump()).append("\n");
}

void gauge(std::string& out, std::string_view name, std::string_view help, const core::json& value) {
    header(out, name, "gauge", help);
    sample(out, name, value);
}

void counter(std::string& out, std::string_view name, std::string_view help, const core::json& value) {
    header(out, name, "counter", help);
    sample(out, name, value);
}

// Our histograms are in milliseconds; Prometheus convention is seconds.
void histogram(std::string& out, std::string_view name, std::string_view help, const core::json& h) {
    header(out, name, "histogram", help);
    for (const auto& b : h.at("buckets")) {
        const double le = b.at(0).get<double>() / 1000.0;
        sample(out, std::string(name) + "_bucket", b.at(1), "le=\"" + core::json(le).dump() + "\"");
    }
    sample(out, std::string(name) + "_bucket", h.at("count"), "le=\"+Inf\"");
    sample(out, std::string(name) + "_sum", core::json(h.at("sum").get<double>() / 1000.0));
    sample(out, std::string(name) + "_count", h.at("count"));
}

/// A label value as the text format wants it: backslash, double quote and newline escaped.
std::string label_value(const std::string& v) {
    std::string out;
    for (char c : v) {
        if (c == '\\' || c == '"') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

}  // namespace

std::string prometheus_text(const core::json& stats) {
    std::string out;
    if (auto b = stats.find("build"); b != stats.end()) {
        header(out, "orbitmesh_build_info", "gauge", "Version and commit of the running hub (always 1).");
        sample(out, "orbitmesh_build_info", 1,
               "version=\"" + label_value(b->value("version", "")) + "\",commit=\"" + label_value(b->value("commit", "")) + "\"");
    }
    const auto& agents = stats.at("agents");
    gauge(out, "orbitmesh_agents_connected", "Agents connected now.", agents.at("connected"));
    gauge(out, "orbitmesh_agents_known", "Agents the hub has ever registered.", agents.at("total"));
    header(out, "orbitmesh_jobs", "gauge", "Jobs by state.");
    for (const auto& [state, n] : stats.at("jobs").items())
        if (state != "total") sample(out, "orbitmesh_jobs", n, "state=\"" + state + "\"");
    gauge(out, "orbitmesh_queue_depth", "Jobs waiting to be dispatched.", stats.at("queue_depth"));
    if (auto held = stats.find("held"); held != stats.end()) {
        header(out, "orbitmesh_held_requests", "gauge", "Requests held open: ?wait= long polls and invoke calls.");
        for (const auto& [kind, n] : held->items()) sample(out, "orbitmesh_held_requests", n, "kind=\"" + kind + "\"");
    }
    const auto& store = stats.at("store");
    counter(out, "orbitmesh_events_appended_total", "Events appended to the log by this hub process.", store.at("events"));
    counter(out, "orbitmesh_store_commits_total", "Store transactions committed by this hub process.", store.at("commits"));
    counter(out, "orbitmesh_store_commit_seconds_total", "Time spent writing and committing (fsync included).",
            store.at("commit_seconds"));
    histogram(out, "orbitmesh_dispatch_latency_seconds", "Submit to the job's first assignment to an agent (committed, then sent).",
              stats.at("dispatch_latency_ms"));
    histogram(out, "orbitmesh_job_duration_seconds", "Start to end of a job's attempt.", stats.at("job_duration_ms"));
    if (auto it = stats.find("runs"); it != stats.end()) {
        header(out, "orbitmesh_runs", "gauge", "Workflow runs by state.");
        for (const auto& [state, n] : it->items()) sample(out, "orbitmesh_runs", n, "state=\"" + state + "\"");
    }
    if (auto it = stats.find("runs_by_workflow"); it != stats.end()) {
        header(out, "orbitmesh_workflow_runs", "gauge", "Workflow runs by workflow and state (outcome once ended), from the runs table.");
        for (const auto& [wf, states] : it->items())
            for (const auto& [state, n] : states.items())
                sample(out, "orbitmesh_workflow_runs", n, "workflow=\"" + label_value(wf) + "\",state=\"" + label_value(state) + "\"");
    }
    return out;
}

}  // namespace orbitmesh::engine
