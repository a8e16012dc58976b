#include "engine/workflow/notify_worker.hpp"

#include <pthread.h>

#include "core/error.hpp"
#include "transport/webhook_client.hpp"

namespace orbitmesh::engine {

namespace {

int post_for_real(const notify_delivery& d) { return transport::post_webhook(d.url, d.body, d.timeout).status; }

std::string webhook_name(const core::server_url& url) {
    return "webhook http://" + url.host_port() + (url.path.empty() ? "/" : url.path);
}

/// "" for a 2xx answer, else why the delivery failed, in the webhook's own words.
std::string outcome_of(const notify_worker::post_fn& post, const notify_delivery& d) {
    try {
        int status = post(d);
        if (status >= 200 && status < 300) return "";
        return webhook_name(d.url) + ": answered HTTP " + std::to_string(status);
    } catch (const core::error& e) {
        return e.what();
    } catch (const std::exception& e) {
        return webhook_name(d.url) + ": the POST failed: " + e.what();
    }
}

}  // namespace

notify_worker::notify_worker(std::size_t threads, std::size_t max_queued, post_fn post)
    : max_queued_(max_queued), post_(post ? std::move(post) : post_fn(post_for_real)) {
    for (std::size_t i = 0; i < std::max<std::size_t>(1, threads); ++i)
        threads_.emplace_back([this] {
            pthread_setname_np(pthread_self(), "om-notify");
            serve();
        });
}

notify_worker::~notify_worker() { drain(); }

bool notify_worker::submit(notify_delivery d) {
    {
        std::lock_guard lock(mu_);
        if (draining_ || queue_.size() >= max_queued_) return false;
        queue_.push_back(std::move(d));
    }
    wake_.notify_one();
    return true;
}

void notify_worker::drain() {
    std::lock_guard once(drain_mu_);
    {
        std::lock_guard lock(mu_);
        draining_ = true;
        queue_.clear();
    }
    wake_.notify_all();
    for (auto& t : threads_)
        if (t.joinable()) t.join();
    threads_.clear();
}

void notify_worker::serve() {
    for (;;) {
        notify_delivery d;
        {
            std::unique_lock lock(mu_);
            wake_.wait(lock, [this] { return draining_ || !queue_.empty(); });
            if (draining_) return;
            d = std::move(queue_.front());
            queue_.pop_front();
        }
        auto error = outcome_of(post_, d);
        if (d.done) d.done(std::move(error));
    }
}

}  // namespace orbitmesh::engine
