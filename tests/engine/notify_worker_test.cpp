// The runner's webhook worker: bounded, a few threads, drained at shutdown.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

#include "core/error.hpp"
#include "engine/workflow/notify_worker.hpp"

using namespace orbitmesh;
using namespace std::chrono_literals;

namespace {

/// Results delivered by the worker, with a bounded wait for them.
struct outcomes {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<std::string> errors;

    std::function<void(std::string)> sink() {
        return [this](std::string e) {
            std::lock_guard lock(mu);
            errors.push_back(std::move(e));
            cv.notify_all();
        };
    }
    bool wait_for(std::size_t n) {
        std::unique_lock lock(mu);
        return cv.wait_for(lock, 5s, [&] { return errors.size() >= n; });
    }
};

/// A fake POST that holds every call until released.
struct gate {
    std::mutex mu;
    std::condition_variable cv;
    bool open = false;
    std::atomic<int> started{0};

    engine::notify_worker::post_fn post(int status) {
        return [this, status](const engine::notify_delivery&) {
            ++started;
            std::unique_lock lock(mu);
            cv.wait_for(lock, 5s, [&] { return open; });
            return status;
        };
    }
    void release() {
        std::lock_guard lock(mu);
        open = true;
        cv.notify_all();
    }
};

engine::notify_delivery delivery(outcomes& out, std::uint16_t port = 9) {
    engine::notify_delivery d;
    d.url.host = "127.0.0.1";
    d.url.port = port;
    d.url.path = "/hook";
    d.body = "{}";
    d.done = out.sink();
    return d;
}

}  // namespace

TEST_CASE("notify worker: a 2xx is success, anything else an error naming the webhook") {
    outcomes out;
    std::atomic<int> status{204};
    engine::notify_worker w(1, 8, [&](const engine::notify_delivery&) { return status.load(); });
    REQUIRE(w.submit(delivery(out)));
    REQUIRE(out.wait_for(1));
    status = 500;
    REQUIRE(w.submit(delivery(out)));
    REQUIRE(out.wait_for(2));
    CHECK(out.errors[0].empty());
    CHECK(out.errors[1] == "webhook http://127.0.0.1:9/hook: answered HTTP 500");
}

TEST_CASE("notify worker: a transport error keeps its own text") {
    outcomes out;
    engine::notify_worker w(1, 8, [](const engine::notify_delivery&) -> int {
        throw core::error(core::error_kind::timeout, "webhook http://127.0.0.1:9/hook: no answer within 5s");
    });
    REQUIRE(w.submit(delivery(out)));
    REQUIRE(out.wait_for(1));
    CHECK(out.errors[0] == "webhook http://127.0.0.1:9/hook: no answer within 5s");
}

TEST_CASE("notify worker: the queue is bounded: past it submit refuses instead of growing") {
    outcomes out;
    gate g;
    engine::notify_worker w(1, 2, g.post(200));
    REQUIRE(w.submit(delivery(out)));  // taken by the one thread
    for (int i = 0; i < 100 && g.started.load() == 0; ++i) std::this_thread::sleep_for(10ms);
    REQUIRE(g.started.load() == 1);
    CHECK(w.submit(delivery(out)));
    CHECK(w.submit(delivery(out)));
    CHECK_FALSE(w.submit(delivery(out)));  // two waiting already
    g.release();
    REQUIRE(out.wait_for(3));
    CHECK(w.submit(delivery(out)));  // room again
    REQUIRE(out.wait_for(4));
}

TEST_CASE("notify worker: drain waits for the POST in flight, drops the queued ones, refuses new ones") {
    outcomes out;
    gate g;
    engine::notify_worker w(1, 8, g.post(200));
    REQUIRE(w.submit(delivery(out)));
    for (int i = 0; i < 100 && g.started.load() == 0; ++i) std::this_thread::sleep_for(10ms);
    REQUIRE(w.submit(delivery(out)));
    std::thread releaser([&] {
        std::this_thread::sleep_for(50ms);
        g.release();
    });
    w.drain();  // returns only once the one in flight is done
    releaser.join();
    std::lock_guard lock(out.mu);
    CHECK(out.errors == std::vector<std::string>{""});  // the queued one was dropped, never reported
    CHECK(g.started.load() == 1);
    CHECK_FALSE(w.submit(delivery(out)));
}
