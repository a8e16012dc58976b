#pragma once
// Helpers for the transport tests: a threaded io_context, bounded waits, a hub with recording
// handlers, and a raw Beast client for sending what a well-behaved client never would.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "transport/beast.hpp"
#include "transport/mesh_client.hpp"
#include "transport/server.hpp"

namespace orbitmesh::transport::test {

using namespace std::chrono_literals;

/// An io_context run by `threads` threads until destroyed.
class io_runner {
public:
    explicit io_runner(int threads = 2) : guard_(net::make_work_guard(io)) {
        for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { io.run(); });
    }
    ~io_runner() { stop(); }
    /// Stops the threads (handlers still queued are destroyed with the io_context, not run).
    void stop() {
        guard_.reset();
        io.stop();
        for (auto& t : threads_) t.join();
        threads_.clear();
    }
    net::io_context io;

private:
    net::executor_work_guard<net::io_context::executor_type> guard_;
    std::vector<std::thread> threads_;
};

/// A thread-safe queue with bounded waits.
template <class T>
class inbox {
public:
    void push(T v) {
        {
            std::lock_guard lock(mu_);
            items_.push_back(std::move(v));
        }
        cv_.notify_all();
    }
    std::optional<T> pop(std::chrono::milliseconds timeout = 5s) {
        std::unique_lock lock(mu_);
        if (!cv_.wait_for(lock, timeout, [&] { return !items_.empty(); })) return std::nullopt;
        T v = std::move(items_.front());
        items_.pop_front();
        return v;
    }
    bool wait_size(std::size_t n, std::chrono::milliseconds timeout = 5s) {
        std::unique_lock lock(mu_);
        return cv_.wait_for(lock, timeout, [&] { return items_.size() >= n; });
    }
    std::size_t size() const {
        std::lock_guard lock(mu_);
        return items_.size();
    }
    std::vector<T> snapshot() const {
        std::lock_guard lock(mu_);
        return {items_.begin(), items_.end()};
    }

private:
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::deque<T> items_;
};

/// A hub: a server on 127.0.0.1:0 whose mesh callbacks record everything, per peer and in order.
class hub {
    io_runner runner_;  // first: destroyed last, after everything holding sockets

public:
    explicit hub(server_options opts = {}, http_handler http = {}, std::function<void(mesh_handler&)> tweak = {})
        : runner_(2) {
        opts.host = "127.0.0.1";
        opts.port = 0;
        mesh_handler m;
        m.on_open = [this](const std::shared_ptr<mesh_peer>& p) {
            record(p->id(), "open");
            {
                std::lock_guard lock(mu_);
                peers_.push_back(p);
            }
            opened.push(p);
        };
        m.on_message = [this](const std::shared_ptr<mesh_peer>& p, core::json msg) {
            record(p->id(), "message");
            messages.push(std::move(msg));
        };
        m.on_close = [this](const std::shared_ptr<mesh_peer>& p, const std::string& reason) {
            record(p->id(), "close");
            closes.push(reason);
        };
        if (tweak) tweak(m);
        srv_ = std::make_unique<server>(runner_.io, opts, std::move(http), std::move(m));
        srv_->start();
    }
    ~hub() {
        srv_->stop();
        runner_.stop();  // no callback runs into the members below while they are destroyed
    }

    server& srv() { return *srv_; }
    std::uint16_t port() const { return srv_->port(); }
    net::io_context& io() { return runner_.io; }
    /// Every peer's callbacks in order: "open", "message"..., "close".
    std::map<std::uint64_t, std::vector<std::string>> history() const {
        std::lock_guard lock(mu_);
        return history_;
    }

    inbox<std::shared_ptr<mesh_peer>> opened;
    inbox<core::json> messages;
    inbox<std::string> closes;

private:
    void record(std::uint64_t id, const char* what) {
        std::lock_guard lock(mu_);
        history_[id].push_back(what);
    }

    mutable std::mutex mu_;
    std::map<std::uint64_t, std::vector<std::string>> history_;
    std::vector<std::shared_ptr<mesh_peer>> peers_;
    std::unique_ptr<server> srv_;
};

/// Checks a peer's history reads open, message*, close (exactly once each end).
inline bool well_formed(const std::vector<std::string>& h) {
    if (h.size() < 2 || h.front() != "open" || h.back() != "close") return false;
    for (std::size_t i = 1; i + 1 < h.size(); ++i)
        if (h[i] != "message") return false;
    return true;
}

/// The agent side: a mesh_client on its own io_context whose callbacks record everything.
class agent {
public:
    explicit agent(std::uint16_t port, bool json_format = false, std::string token = {}, std::string path = {})
        : client_(io_.io, make_options(port, json_format, std::move(token), std::move(path))) {}
    explicit agent(mesh_client::options opts) : client_(io_.io, std::move(opts)) {}

    void connect() {
        mesh_client::callbacks cb;
        cb.on_connected = [this] { connected.push(true); };
        cb.on_message = [this](core::json m) { messages.push(std::move(m)); };
        cb.on_closed = [this](const std::string& reason) { closed.push(reason); };
        client_.connect(std::move(cb));
    }
    /// Connects and waits for the handshake; false on failure or after 5 s.
    bool connect_and_wait() {
        connect();
        return connected.pop().has_value();
    }
    mesh_client& client() { return client_; }

    static mesh_client::options make_options(std::uint16_t port, bool json_format, std::string token, std::string path) {
        mesh_client::options o;
        o.url.host = "127.0.0.1";
        o.url.port = port;
        o.url.path = std::move(path);
        o.json_format = json_format;
        o.token = std::move(token);
        return o;
    }

    inbox<bool> connected;
    inbox<core::json> messages;
    inbox<std::string> closed;

private:
    io_runner io_{1};  // after the inboxes its callbacks fill, before the client
    mesh_client client_;
};

/// A blocking raw WebSocket client on its own io_context; every operation is time-bounded.
class raw_client {
public:
    explicit raw_client(std::uint16_t port, std::string subprotocol = "orbitmesh.msgpack", std::string path = "/mesh")
        : ws_(io_) {
        beast::get_lowest_layer(ws_).connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
        ws_.set_option(websocket::stream_base::decorator([subprotocol](websocket::request_type& req) {
            if (!subprotocol.empty()) req.set(http::field::sec_websocket_protocol, subprotocol);
        }));
        ws_.read_message_max(0);
        run([&](auto done) { ws_.async_handshake("127.0.0.1", path, done); });
    }

    error_code send(std::string_view bytes, bool text = false) {
        ws_.text(text);
        return run([&](auto done) { ws_.async_write(net::buffer(bytes.data(), bytes.size()), done); });
    }

    /// Reads one frame; nullopt when the connection ended (see close_reason()).
    std::optional<std::string> read(std::chrono::milliseconds timeout = 5s) {
        beast::flat_buffer buffer;
        auto ec = run([&](auto done) { ws_.async_read(buffer, done); }, timeout);
        if (ec) return std::nullopt;
        return beast::buffers_to_string(buffer.data());
    }

    /// Reads (and discards) frames until the hub closes; returns its close code and reason.
    std::pair<int, std::string> wait_close(std::chrono::milliseconds timeout = 5s) {
        auto until = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < until)
            if (!read(std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now())))
                break;
        auto r = ws_.reason();
        return {r.code, std::string(r.reason.data(), r.reason.size())};
    }

    websocket::stream<beast::tcp_stream>& ws() { return ws_; }

private:
    template <class Start>
    error_code run(Start start, std::chrono::milliseconds timeout = 5s) {
        error_code result = net::error::timed_out;
        bool finished = false;
        start([&](error_code ec, std::size_t = 0) {
            result = ec;
            finished = true;
        });
        io_.restart();
        io_.run_for(timeout);
        if (!finished) {
            beast::get_lowest_layer(ws_).close();
            io_.restart();
            io_.run_for(1s);
        }
        return result;
    }

    net::io_context io_;
    websocket::stream<beast::tcp_stream> ws_;
};

/// A port nothing listens on (bound, then released).
inline std::uint16_t closed_port() {
    net::io_context io;
    tcp::acceptor a(io, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
    auto p = a.local_endpoint().port();
    a.close();
    return p;
}

}  // namespace orbitmesh::transport::test
