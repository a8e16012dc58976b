#pragma once
#include <map>
#include <string>

#include "core/json.hpp"
#include "core/workflow_step.hpp"

namespace orbitmesh::engine {

/// A notify/notification step made ready to deliver: where to, and what.
struct rendered_notification {
    bool to_log = false;   // the `log` channel: the hub's log and the run's event feed
    std::string channel;   // as written
    std::string url;       // webhook target when !to_log
    core::json body;       // {message, title?, severity?} (or the message map as written)
};

/// Resolves the step's channel through the hub's configuration (serve --notify-channel NAME=URL
/// or NAME=log): `webhook` posts to the step's `target`; `log` logs; `default` is the configured
/// default channel, else `log`; any other name must be configured. Renders message, title and
/// severity with `ctx`. Throws core::error{invalid_input} for an unknown channel or a bad URL.
rendered_notification render_notification(const core::notify_step& n, const core::json& ctx,
                                          const std::map<std::string, std::string>& channels);

/// One line on the hub's stderr for a notification to the `log` channel.
void log_notification(const rendered_notification& n, const std::string& run_id, const std::string& step);

}  // namespace orbitmesh::engine
