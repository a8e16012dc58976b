#include "engine/agent/hub_connection.hpp"

#include <cstdio>
#include <utility>

#include "core/protocol.hpp"
#include "engine/agent/agent_log.hpp"
#include "transport/asio.hpp"

namespace orbitmesh::engine::agent {

namespace {

std::string url_text(const core::server_url& u) {
    return std::string(u.tls ? "wss://" : "ws://") + u.host_port() + (u.path.empty() ? "/mesh" : u.path);
}

/// "0.4s": the delay as an operator reads it in a log line.
std::string seconds_text(std::int64_t ms) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(ms) / 1000.0);
    return buf;
}

}  // namespace

struct hub_connection::timers {
    explicit timers(net::io_context& io) : retry(io), beat(io) {}
    net::steady_timer retry;
    net::steady_timer beat;  // welcome deadline, then heartbeats
};

hub_connection::hub_connection(net::io_context& io, transport::mesh_client::options opts,
                               reconnect_backoff backoff, callbacks cb, const std::vector<core::server_url>& more)
    : backoff_(backoff), cb_(std::move(cb)), timers_(std::make_unique<timers>(io)) {
    clients_.push_back(std::make_unique<transport::mesh_client>(io, opts));
    wheres_.push_back(url_text(opts.url));
    for (const auto& url : more) {
        opts.url = url;
        clients_.push_back(std::make_unique<transport::mesh_client>(io, opts));
        wheres_.push_back(url_text(url));
    }
}

hub_connection::~hub_connection() = default;

void hub_connection::start() { connect(); }

void hub_connection::stop(const std::string& reason) {
    if (stopping_) return;
    stopping_ = true;
    timers_->retry.cancel();
    timers_->beat.cancel();
    if (in_flight_) client().close(reason);  // also aborts a connect in progress
}

void hub_connection::connect() {
    ++epoch_;
    in_flight_ = true;
    transport::mesh_client::callbacks cb;
    cb.on_connected = [this] { on_connected(); };
    cb.on_message = [this](core::json m) { on_message(std::move(m)); };
    cb.on_closed = [this](const std::string& reason) { on_closed(reason); };
    cb.on_refused = [this](int status) { refused_status_ = status; };
    client().connect(std::move(cb));
}

void hub_connection::on_connected() {
    connected_ = true;
    client().send(cb_.hello());
    timers_->beat.expires_after(std::chrono::milliseconds(welcome_timeout_ms));
    timers_->beat.async_wait([this, epoch = epoch_](const boost::system::error_code& ec) {
        if (ec || epoch != epoch_ || welcomed_ || !connected_) return;
        client().close("no welcome from the hub within " + seconds_text(welcome_timeout_ms));
    });
}

void hub_connection::on_message(core::json m) {
    auto t = m.find("t");
    if (t != m.end() && t->is_string() && *t == core::protocol::msg::welcome) return on_welcome(m);
    if (cb_.on_message) cb_.on_message(std::move(m));
}

void hub_connection::on_welcome(const core::json& m) {
    welcomed_ = true;
    backoff_.reset();
    auto hb = m.find("heartbeat_ms");
    heartbeat_ms_ =
        hb != m.end() && hb->is_number() ? std::max<std::int64_t>(100, hb->get<std::int64_t>()) : 5000;
    log_line("connected to hub at " + where());
    timers_->beat.cancel();
    client().send(cb_.heartbeat());
    schedule_heartbeat();
    if (cb_.on_welcome) cb_.on_welcome();
}

void hub_connection::schedule_heartbeat() {
    timers_->beat.expires_after(std::chrono::milliseconds(heartbeat_ms_));
    timers_->beat.async_wait([this, epoch = epoch_](const boost::system::error_code& ec) {
        if (ec || epoch != epoch_ || !welcomed_) return;
        client().send(cb_.heartbeat());
        schedule_heartbeat();
    });
}

void hub_connection::on_closed(const std::string& reason) {
    bool was_connected = connected_, was_welcomed = welcomed_;
    in_flight_ = connected_ = welcomed_ = false;
    ++epoch_;
    timers_->beat.cancel();
    if (stopping_) return;
    const int refused = std::exchange(refused_status_, 0);
    if ((refused == 401 || refused == 403) && cb_.on_rejected) {
        stopping_ = true;
        return cb_.on_rejected(reason);
    }
    auto delay = backoff_.next();
    const std::string lost = where();
    std::string next;
    if (clients_.size() > 1) {
        // The next hub in turn; the backoff keeps growing across them, so a mesh whose hubs are
        // all down is not hammered.
        current_.store((current_.load(std::memory_order_relaxed) + 1) % clients_.size(), std::memory_order_release);
        next = " (to hub at " + where() + ")";
    }
    if (was_welcomed)
        log_line("lost the connection to hub at " + lost + ": " + reason + "; reconnecting in " + seconds_text(delay) +
                 next);
    else if (was_connected)
        log_line("hub at " + lost + " closed the connection before welcome: " + reason + "; retrying in " +
                 seconds_text(delay) + next);
    else
        log_line("cannot reach hub at " + lost + ": " + reason + "; retrying in " + seconds_text(delay) + next);
    timers_->retry.expires_after(std::chrono::milliseconds(delay));
    timers_->retry.async_wait([this](const boost::system::error_code& ec) {
        if (!ec && !stopping_) connect();
    });
}

}  // namespace orbitmesh::engine::agent
