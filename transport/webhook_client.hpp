#pragma once
#include <chrono>
#include <string>

#include "core/url.hpp"

namespace orbitmesh::transport {

/// A webhook's answer.
struct webhook_response {
    int status = 0;
    std::string body;
};

/// POSTs one JSON body to a webhook (`notify` steps) on a fresh connection, everything within
/// `timeout`. Blocking: call it from a worker thread, never an io thread. Throws core::error
/// whose text names the webhook: {unavailable} "webhook http://HOST:PORT/PATH: cannot connect:
/// …" or "… connection lost: …", {timeout} "… no answer within 5s", {usage} for https://.
/// Thread-safe (nothing shared between calls).
webhook_response post_webhook(const core::server_url& url, const std::string& body, std::chrono::milliseconds timeout);

}  // namespace orbitmesh::transport
