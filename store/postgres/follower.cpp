#include "store/postgres/follower.hpp"

#include <poll.h>

#include <chrono>

#include "store/postgres/log_notice.hpp"
#include "store/postgres/reader.hpp"

namespace orbitmesh::store::postgres {
namespace {

constexpr std::int64_t follow_page_rows = 2000;
constexpr const char* new_events_sql =
    "SELECT seq, stream, version, type, data, time, coalesce(origin, '') FROM events WHERE seq > $1 ORDER BY seq LIMIT $2";
constexpr const char* heartbeat_sql =
    "INSERT INTO hubs(hub_id, address, heartbeat, started)"
    " VALUES($1, $2, (extract(epoch FROM clock_timestamp()) * 1000)::bigint, (extract(epoch FROM clock_timestamp()) * 1000)::bigint)"
    " ON CONFLICT(hub_id) DO UPDATE SET address = excluded.address, heartbeat = excluded.heartbeat";
constexpr const char* hubs_sql =
    "SELECT hub_id, coalesce(address, ''), (extract(epoch FROM clock_timestamp()) * 1000)::bigint - heartbeat FROM hubs"
    " ORDER BY hub_id";

std::int64_t steady_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

}  // namespace

follower::follower(options opts) : opts_(std::move(opts)), last_seq_(opts_.after_seq) {
    connect();  // the first failure is the caller's (serve stops with it)
    thread_ = std::thread([this] { run(); });
}

follower::~follower() { stop(); }

void follower::stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
}

void follower::connect() {
    db_ = std::make_unique<connection>(opts_.url);
    db_->exec("LISTEN orbitmesh_events", "listening for other hubs' commits");
    db_->exec("LISTEN " + std::string(log_channel), "listening for other hubs' output");
    db_->prepare("new_events", new_events_sql, "preparing the follower's statements");
    db_->prepare("heartbeat", heartbeat_sql, "preparing the follower's statements");
    heartbeat();
}

void follower::run() {
    std::int64_t next_beat = steady_ms() + opts_.heartbeat_ms;
    while (!stop_) {
        try {
            if (!db_) connect();
            wait_for_notify(std::min(opts_.poll_ms, std::max<std::int64_t>(1, next_beat - steady_ms())));
            read_new();
            hand_over_logs();
            if (steady_ms() >= next_beat) {
                next_beat = steady_ms() + opts_.heartbeat_ms;
                heartbeat();
            }
        } catch (const std::exception& e) {
            if (opts_.on_error) opts_.on_error(std::string("following the shared store: ") + e.what() + "; retrying in 1s");
            db_.reset();
            for (int i = 0; i < 10 && !stop_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    }
}

// Waits until a NOTIFY arrives or `ms` pass; drains every notification (one read covers them all).
void follower::wait_for_notify(std::int64_t ms) {
    pollfd fd{PQsocket(db_->handle()), POLLIN, 0};
    if (fd.fd < 0) throw core::error{core::error_kind::unavailable, "the follower's connection is closed"};
    if (::poll(&fd, 1, static_cast<int>(ms)) < 0) return;
    if (PQconsumeInput(db_->handle()) == 0)
        throw core::error{core::error_kind::unavailable, "the follower's connection dropped: " +
                                                             std::string(PQerrorMessage(db_->handle()))};
    while (PGnotify* n = PQnotifies(db_->handle())) {
        take_notice(*n);
        PQfreemem(n);
    }
}

void follower::take_notice(const PGnotify& n) {
    if (!n.relname || log_channel != n.relname) return;
    auto parts = parse_log_notice(n.extra ? n.extra : "");
    if (parts.hub_id == opts_.hub_id) return;  // this hub woke its own readers
    woken_all_ = woken_all_ || parts.all;
    for (auto& id : parts.job_ids) woken_logs_.push_back(std::move(id));
}

void follower::hand_over_logs() {
    if (woken_logs_.empty() && !woken_all_) return;
    auto ids = std::move(woken_logs_);
    woken_logs_.clear();
    const bool all = woken_all_;
    woken_all_ = false;
    if (opts_.on_logs) opts_.on_logs(std::move(ids), all);
}

void follower::read_new() {
    for (;;) {
        params p;
        p.int64(last_seq_).int64(follow_page_rows);
        const auto r = db_->run_prepared("new_events", p, "reading other hubs' events");
        std::vector<core::event> out;
        for (int i = 0; i < r.rows(); ++i) {
            last_seq_ = r.int64(i, 0);
            if (r.text(i, 6) == opts_.hub_id) continue;
            core::event e;
            read_event_row(r, i, e);
            out.push_back(std::move(e));
        }
        if (!out.empty() && opts_.on_events) opts_.on_events(std::move(out));
        if (r.rows() < follow_page_rows) return;
    }
}

void follower::heartbeat() {
    params p;
    p.text(opts_.hub_id).text(opts_.address);
    db_->run_prepared("heartbeat", p, "writing this hub's heartbeat");
    if (!opts_.on_hubs) return;
    const auto r = db_->query(hubs_sql, {}, "reading the hubs' heartbeats");
    std::vector<peer_hub> hubs;
    for (int i = 0; i < r.rows(); ++i) hubs.push_back({std::string(r.text(i, 0)), std::string(r.text(i, 1)), r.int64(i, 2)});
    opts_.on_hubs(std::move(hubs));
}

}  // namespace orbitmesh::store::postgres

namespace orbitmesh::store {

std::unique_ptr<shared_log> shared_log::open(options opts) {
    if (!postgres::is_postgres_url(opts.url))
        throw core::error{core::error_kind::usage, "--shared-store needs a PostgreSQL --store (postgres://USER@HOST:PORT/DB)"};
    return std::make_unique<postgres::follower>(std::move(opts));
}

}  // namespace orbitmesh::store
