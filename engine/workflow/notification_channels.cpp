// Notification channels: from a step's `channel` to a webhook URL or the hub's log.
#include "engine/workflow/notification_channels.hpp"

#include <cstdio>

#include "core/error.hpp"
#include "core/expression_template.hpp"

namespace orbitmesh::engine {

namespace {

std::string text(const std::string& t, const core::json& ctx) { return t.empty() ? t : core::stringify(core::interpolate(t, ctx)); }

// Newlines as `\n`, so a multi-line message stays one log line.
std::string one_line(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '\n') out += "\\n";
        else if (c != '\r') out += c;
    }
    return out;
}

}  // namespace

rendered_notification render_notification(const core::notify_step& n, const core::json& ctx,
                                          const std::map<std::string, std::string>& channels) {
    rendered_notification out;
    out.channel = n.channel;
    std::string where = n.channel == "webhook" ? text(n.target, ctx) : std::string();
    if (n.channel != "webhook") {
        auto it = channels.find(n.channel);
        if (it != channels.end()) where = it->second;
        else if (n.channel == "default" || n.channel == "log") where = "log";
        else if (!n.target.empty()) where = text(n.target, ctx);
        else
            throw core::error(core::error_kind::invalid_input,
                              "notification channel \"" + n.channel +
                                  "\" is not configured on this hub (serve --notify-channel " + n.channel +
                                  "=URL), and the step has no target: URL");
    }
    out.to_log = where == "log";
    if (!out.to_log) {
        if (where.rfind("http://", 0) != 0)
            throw core::error(core::error_kind::invalid_input, "notification target \"" + where +
                                                                   "\" is not an http:// URL (https is not supported for webhooks yet)");
        out.url = where;
    }
    auto msg = core::interpolate(n.message, ctx);
    out.body = msg.is_object() ? msg : core::json{{"message", msg}};
    if (auto t = text(n.title, ctx); !t.empty()) out.body["title"] = t;
    if (auto sev = text(n.severity, ctx); !sev.empty()) out.body["severity"] = sev;
    return out;
}

void log_notification(const rendered_notification& n, const std::string& run_id, const std::string& step) {
    const auto& b = n.body;
    std::string line = "orbitmesh serve: notification";
    if (b.contains("severity")) line += " [" + core::stringify(b["severity"]) + "]";
    line += " run " + run_id + " step " + step + ": ";
    if (b.contains("title")) line += core::stringify(b["title"]) + ": ";
    line += one_line(b.contains("message") ? core::stringify(b["message"]) : b.dump()) + "\n";
    std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace orbitmesh::engine
