#include "engine/events/event_feed.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <vector>

#include <pthread.h>

#include "core/error.hpp"
#include "engine/hub/hub_log.hpp"
#include "store/event_source.hpp"

namespace orbitmesh::engine {

namespace {

/// Events read from the store per query while catching a client up.
constexpr std::int64_t events_per_read = 512;
constexpr int max_reads_per_pass = 64;

std::int64_t steady_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

struct event_feed::client {
    std::uint64_t id = 0;
    event_filter filter;
    std::int64_t cursor = -1;  // the last seq looked at for this client; -1: not placed yet
    std::int64_t keepalive_ms = 15'000;
    std::int64_t last_write_ms = 0;
    bool seeded = false;
    std::shared_ptr<transport::http_stream> out;  // null until attached
    std::atomic<bool> busy{false};                // a piece is in flight
};

event_feed::event_feed(options o) : opts_(std::move(o)) {
    thread_ = std::thread([this] {
        pthread_setname_np(pthread_self(), "om-events");
        run();
    });
}

event_feed::~event_feed() { stop(); }

std::uint64_t event_feed::open(event_filter filter, std::int64_t after, std::int64_t keepalive_ms) {
    std::lock_guard lock(mu_);
    if (stop_) throw core::error(core::error_kind::unavailable, "the hub is stopping");
    if (clients_.size() >= opts_.max_clients)
        throw core::error(core::error_kind::unavailable, std::to_string(opts_.max_clients) +
                                                             " event-stream clients are connected already; retry later");
    auto c = std::make_shared<client>();
    c->id = next_id_++;
    c->filter = std::move(filter);
    c->cursor = after;
    c->keepalive_ms = keepalive_ms;
    c->last_write_ms = steady_ms();
    clients_[c->id] = c;
    return c->id;
}

void event_feed::attach(std::uint64_t id, std::shared_ptr<transport::http_stream> out) {
    {
        std::lock_guard lock(mu_);
        if (auto it = clients_.find(id); it != clients_.end() && !stop_) {
            it->second->out = std::move(out);
            dirty_ = true;
            wake_.notify_one();
            return;
        }
    }
    out->close();
}

void event_feed::close(std::uint64_t id) {
    std::lock_guard lock(mu_);
    clients_.erase(id);
}

void event_feed::wake() {
    std::lock_guard lock(mu_);
    dirty_ = true;
    wake_.notify_one();
}

void event_feed::notify() {
    std::lock_guard lock(mu_);
    if (clients_.empty()) return;
    dirty_ = true;
    wake_.notify_one();
}

std::size_t event_feed::clients() const {
    std::lock_guard lock(mu_);
    return clients_.size();
}

void event_feed::stop() {
    std::map<std::uint64_t, std::shared_ptr<client>> gone;
    {
        std::lock_guard lock(mu_);
        stop_ = true;
        gone.swap(clients_);
        wake_.notify_one();
    }
    for (auto& [id, c] : gone)
        if (c->out) c->out->close();
    if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void event_feed::run() {
    bool more = false;
    for (;;) {
        std::vector<std::shared_ptr<client>> live;
        {
            std::unique_lock lock(mu_);
            // Keepalives are due at most a second late; a client still catching up needs no wait.
            if (!more) wake_.wait_for(lock, std::chrono::seconds(1), [this] { return dirty_ || stop_; });
            if (stop_) break;
            dirty_ = false;
            for (auto& [id, c] : clients_)
                if (c->out) live.push_back(c);
        }
        more = false;
        if (live.empty()) continue;
        try {
            if (!scan_) scan_ = store::open_event_source(opts_.store_url, opts_.store_file);
            const auto last = scan_->last_seq();
            const auto now = steady_ms();
            for (auto& c : live) more = serve(c, last, now) || more;
        } catch (const std::exception& e) {
            hub_log(std::string("error: the event stream could not read the event log: ") + e.what() +
                    "; closing its clients (they resume by id)");
            scan_.reset();
            for (auto& c : live) c->out->close();
        }
    }
    scan_.reset();
}

bool event_feed::serve(const std::shared_ptr<client>& cp, std::int64_t last, std::int64_t now) {
    auto& c = *cp;
    if (c.busy.load()) return false;  // its done() wakes the feed again
    if (!c.seeded) {
        // Placing a client and seeding its filter read the store: this thread does both.
        if (c.cursor < 0) c.cursor = last;
        if (auto s = c.filter.history_stream(); !s.empty())
            scan_->stream(s, c.cursor, [&](const core::event_view& v) { c.filter.learn(v.stream, v.type, v.data); });
        c.seeded = true;
    }
    std::string piece;
    // Bounded per pass, so a client whose filter matches little in a long backlog takes turns.
    for (int reads = 0; c.cursor < last && piece.size() < opts_.piece_bytes && reads < max_reads_per_pass; ++reads) {
        const auto upto = std::min(last, c.cursor + events_per_read);
        scan_->range(c.cursor, upto, [&](const core::event_view& v) {
            if (c.filter.matches(v.stream, v.type, v.data)) append_sse(piece, v.seq, v.stream, v.type, v.time_ms, v.data);
        });
        c.cursor = upto;
    }
    if (piece.empty() && now - c.last_write_ms >= c.keepalive_ms) piece = ": keepalive\n\n";
    if (piece.empty()) return false;
    c.last_write_ms = now;
    c.busy = true;
    auto out = c.out;
    out->write(std::move(piece), opts_.write_timeout_ms,
               [feed = weak_from_this(), cl = std::weak_ptr<client>(cp), out](bool ok) {
                   if (auto held = cl.lock()) held->busy = false;
                   if (!ok) return out->close();  // gone, or too slow: it resumes by id
                   if (auto f = feed.lock()) f->wake();
               });
    return c.cursor < last;
}

}  // namespace orbitmesh::engine
