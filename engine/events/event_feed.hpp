#pragma once
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "engine/events/event_filter.hpp"
#include "transport/http_types.hpp"

namespace orbitmesh::store {
class event_source;
}

namespace orbitmesh::engine {

/// The live side of `GET /api/v1/events`: one thread that tails the event log (its own read
/// connection, SQLite or PostgreSQL) after every commit (and every second: on a shared
/// PostgreSQL store other hubs commit too) and writes what each client's filter matches, in seq order.
/// Clients pull: each has a cursor (the last seq it was given) and at most one piece in flight,
/// so a slow client costs one piece of memory and falls behind on its own; one whose piece is
/// not taken within the write timeout is disconnected (it resumes by id). Thread-safe; hold it
/// in a shared_ptr (writes finish after the caller's reference may be gone).
class event_feed : public std::enable_shared_from_this<event_feed> {
public:
    struct options {
        std::filesystem::path store_file;  // the SQLite store, when store_url is empty
        std::string store_url;             // a postgres:// store
        std::size_t max_clients = 256;
        std::int64_t write_timeout_ms = 10'000;  // a piece not taken by then: the client is too slow
        std::size_t piece_bytes = 64 << 10;      // what one write carries at most (about)
    };
    explicit event_feed(options o);
    ~event_feed();
    event_feed(const event_feed&) = delete;
    event_feed& operator=(const event_feed&) = delete;

    /// A client with `filter`, wanting events with seq > `after` (-1: only those committed from
    /// now on), a `: keepalive` comment after `keepalive_ms` of silence. Returns its id; throws
    /// core::error{unavailable} past max_clients or once stopped.
    std::uint64_t open(event_filter filter, std::int64_t after, std::int64_t keepalive_ms);
    /// Gives client `id` its open response body; closes `out` when the client is gone already.
    void attach(std::uint64_t id, std::shared_ptr<transport::http_stream> out);
    /// Forgets client `id` (its connection ended). Idempotent.
    void close(std::uint64_t id);
    /// New events may be committed: wake the feed. Cheap when nobody listens.
    void notify();
    /// Closes every client and joins the thread. Idempotent.
    void stop();
    std::size_t clients() const;

private:
    struct client;
    void run();
    void wake();
    /// Writes the client's next piece (events it matches up to `last`, or a keepalive); true when
    /// it has more to read.
    bool serve(const std::shared_ptr<client>& c, std::int64_t last, std::int64_t now_ms);

    options opts_;
    mutable std::mutex mu_;
    std::condition_variable wake_;
    bool dirty_ = false;
    bool stop_ = false;
    std::uint64_t next_id_ = 1;
    std::map<std::uint64_t, std::shared_ptr<client>> clients_;
    std::unique_ptr<store::event_source> scan_;  // the feed thread's own
    std::thread thread_;
};

}  // namespace orbitmesh::engine
