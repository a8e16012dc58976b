// frame_bench: SPEC §2 "a benchmark compares the two" encodings — how many agent messages a hub
// takes per second on one `/mesh` WebSocket connection, `orbitmesh.msgpack` versus
// `orbitmesh.json`, one message per frame and K per frame (an array, which §2 allows).
//
//   frame_bench --port N [--encoding msgpack|json] [--messages N] [--per-frame K] [--runs N]
//               [--warmup N] [--hub-pid PID] [--json FILE]
//
// Connects to a running hub on 127.0.0.1 as an agent (hello, then welcome), then writes
// heartbeats as fast as the connection takes them. The clock stops when the hub has *handled*
// the last one, in two steps: a ping written after the last frame comes back as a pong once the
// hub's reader has decoded every frame before it and posted its messages to the hub strand
// (Beast answers pings in order inside its read loop) — the "read" time; then a
// GET /api/v1/agents/ID, which runs on that strand after them, must show the last heartbeat's
// load — the "handled" time, which gives the reported value. The messages are encoded before the
// clock starts, with the project's own codec, so the client costs one masked write per frame.
// With --hub-pid the hub's CPU time per message and the time its threads waited for a CPU are
// reported too (from /proc): on a shared 2-core machine those say whether a slow run was the hub.
//
// Prints one JSON object per per-frame setting on stdout (or to --json FILE) and a one-line
// summary on stderr; exits 1 when the hub cannot be reached, refuses the agent or drops it, 2 on
// bad flags.
#include "transport/asio.hpp"  // first: <utility> before any Asio header (STYLE §4)

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "bench/command_line.hpp"
#include "core/json.hpp"
#include "core/protocol.hpp"
#include "transport/codec.hpp"

using namespace orbitmesh;

namespace {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace websocket = boost::beast::websocket;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;
using steady = std::chrono::steady_clock;

constexpr auto io_deadline = std::chrono::seconds(10);  // connect, handshake, welcome, one reply
constexpr auto run_deadline = std::chrono::seconds(120);  // one timed run, however slow the hub

struct options {
    int port = 0;
    bool json_text = false;
    int messages = 200'000;
    int per_frame = 10;
    int runs = 3;
    int warmup = -1;  // messages before each setting's timed runs; -1: a tenth of --messages
    int hub_pid = 0;  // 0: no hub CPU figures
    std::string json_file;
};

[[noreturn]] void fail(const std::string& why) {
    std::fprintf(stderr, "frame_bench: error: %s\n", why.c_str());
    std::exit(1);
}

options parse(int argc, char** argv) {
    bench::command_line cl("frame_bench",
                           "usage: frame_bench --port N [--encoding msgpack|json] [--messages N] [--per-frame K] "
                           "[--runs N] [--warmup N] [--hub-pid PID] [--json FILE]",
                           argc, argv);
    options o;
    while (const char* flag = cl.next_flag()) {
        const std::string a = flag;
        auto number = [&](long min, long max) { return static_cast<int>(cl.whole_number(min, max)); };
        if (a == "--port") o.port = number(1, 65535);
        else if (a == "--messages") o.messages = number(1, 100'000'000);
        else if (a == "--per-frame") o.per_frame = number(1, 100'000);
        else if (a == "--runs") o.runs = number(1, 1000);
        else if (a == "--warmup") o.warmup = number(0, 100'000'000);
        else if (a == "--hub-pid") o.hub_pid = number(1, 1 << 30);
        else if (a == "--json") o.json_file = cl.value();
        else if (a == "--encoding") {
            std::string e = cl.value();
            if (e != "msgpack" && e != "json") cl.usage_error("--encoding is msgpack or json, got \"" + e + "\"");
            o.json_text = e == "json";
        } else cl.usage_error("unknown flag " + a);
    }
    if (o.port == 0) cl.usage_error("--port is required (the hub's HTTP port on 127.0.0.1)");
    if (o.warmup < 0) o.warmup = std::max(1000, o.messages / 10);
    return o;
}

std::string encoding_name(bool json_text) { return json_text ? "json" : "msgpack"; }

/// Runs `io` until `done()` or the deadline; false when the deadline passed or nothing is left
/// that could make `done()` true.
bool run_until(net::io_context& io, const std::function<bool()>& done, steady::duration limit) {
    const auto deadline = steady::now() + limit;
    while (!done()) {
        const auto left = deadline - steady::now();
        if (left <= steady::duration::zero()) return false;
        if (io.run_one_for(left) == 0 && io.stopped()) return false;
    }
    return true;
}

/// The agent's side of one `/mesh` connection: a read loop that runs for the whole session
/// (so Beast answers the hub's pings and reports our pongs), and a few blocking steps on top.
struct mesh_link {
    explicit mesh_link(net::io_context& context) : io(context), ws(context) {}

    net::io_context& io;
    websocket::stream<beast::tcp_stream> ws;
    beast::flat_buffer in;
    bool json_text = false;
    std::optional<core::json> welcome;
    std::string last_pong;   // payload of the last pong seen
    std::string read_error;  // why the read loop stopped, once it has

    void read_loop() {
        ws.async_read(in, [this](error_code ec, std::size_t) {
            if (ec) {
                read_error = ec == websocket::error::closed
                                 ? "the hub closed the connection with " + std::to_string(ws.reason().code) + ": " +
                                       std::string(ws.reason().reason.data(), ws.reason().reason.size())
                                 : "connection to the hub lost: " + ec.message();
                return;
            }
            auto data = in.data();
            try {
                for (auto& m : transport::decode_frame({static_cast<const char*>(data.data()), data.size()}, json_text))
                    if (m.value("t", "") == core::protocol::msg::welcome) welcome = std::move(m);
            } catch (const transport::frame_error& e) {
                read_error = std::string("undecodable frame from the hub: ") + e.what();
                return;
            }
            in.consume(in.size());
            read_loop();
        });
    }

    /// Waits for `done()`; fails with `what` and the read loop's reason when it does not come.
    void await(const std::function<bool()>& done, steady::duration limit, const std::string& what) {
        if (run_until(io, [&] { return done() || !read_error.empty(); }, limit) && done()) return;
        fail(what + ": " + (read_error.empty() ? "timed out" : read_error));
    }

    void write(const std::string& frame, const std::string& what) {
        std::optional<error_code> result;
        ws.async_write(net::buffer(frame), [&](error_code ec, std::size_t) { result = ec; });
        await([&] { return result.has_value(); }, io_deadline, what);
        if (*result) fail(what + ": " + result->message());
    }
};

core::json hello(const std::string& agent_id) {
    return {{"t", core::protocol::msg::hello},
            {"protocol", core::protocol::version},
            {"agent_id", agent_id},
            {"name", agent_id},
            {"tags", core::json::object()},
            {"capabilities", core::json::array()},
            {"handlers", core::json::array()},
            {"concurrency", 1},
            {"version", "frame-bench"},
            {"running", core::json::array()}};
}

core::json heartbeat(double cpu) {
    return {{"t", core::protocol::msg::heartbeat}, {"load", {{"cpu", cpu}, {"mem", 0.25}, {"running", 0}}}};
}

/// Connects to the hub's port on 127.0.0.1, with TCP_NODELAY as the agent and the hub set it
/// (small frames are the norm).
void connect_tcp(net::io_context& io, beast::tcp_stream& stream, int port) {
    std::optional<error_code> result;
    stream.expires_after(io_deadline);
    stream.async_connect(tcp::endpoint(net::ip::make_address_v4("127.0.0.1"), static_cast<unsigned short>(port)),
                         [&](error_code ec) { result = ec; });
    if (!run_until(io, [&] { return result.has_value(); }, io_deadline + std::chrono::seconds(1)) || *result)
        fail("cannot connect to 127.0.0.1:" + std::to_string(port) + ": " +
             (result ? result->message() : "timed out") + " (is a hub listening there?)");
    stream.socket().set_option(tcp::no_delay(true));
    stream.expires_never();
}

/// The WebSocket upgrade to /mesh, offering the subprotocol of --encoding; fails unless the hub
/// takes it (msgpack may also be answered with no subprotocol: it is the default).
void upgrade_to_mesh(mesh_link& l, const options& o) {
    const std::string where = "127.0.0.1:" + std::to_string(o.port);
    const std::string offered(o.json_text ? core::protocol::subprotocol_json : core::protocol::subprotocol_msgpack);
    l.json_text = o.json_text;
    l.ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
    l.ws.set_option(websocket::stream_base::decorator([offered](websocket::request_type& req) {
        req.set(http::field::user_agent, "orbitmesh-frame-bench");
        req.set(http::field::sec_websocket_protocol, offered);
    }));
    l.ws.text(o.json_text);
    l.ws.auto_fragment(false);
    // Masking is the client's main cost per frame; the fast PRNG keeps the client out of the
    // measurement (the masks only guard proxies, and there is none on loopback).
    l.ws.secure_prng(false);
    websocket::response_type res;
    std::optional<error_code> result;
    l.ws.async_handshake(res, where, "/mesh", [&](error_code ec) { result = ec; });
    if (!run_until(l.io, [&] { return result.has_value(); }, io_deadline + std::chrono::seconds(1)))
        fail("WebSocket handshake with " + where + "/mesh timed out");
    if (*result == websocket::error::upgrade_declined)
        fail("the hub at " + where + " refused the upgrade to /mesh with HTTP " + std::to_string(res.result_int()) +
             ": " + res.body());
    if (*result) fail("WebSocket handshake with " + where + "/mesh failed: " + result->message());
    const auto chosen = res[http::field::sec_websocket_protocol];
    if (o.json_text ? chosen != offered : !chosen.empty() && chosen != offered)
        fail("the hub at " + where + " did not accept the " + offered + " subprotocol (it answered \"" +
             std::string(chosen.data(), chosen.size()) + "\")");
}

/// Connects as agent `agent_id`: TCP, upgrade, the read loop, hello, then waits for welcome.
void join_as_agent(mesh_link& l, const options& o, const std::string& agent_id) {
    connect_tcp(l.io, beast::get_lowest_layer(l.ws), o.port);
    upgrade_to_mesh(l, o);
    l.ws.control_callback([&l](websocket::frame_type kind, beast::string_view payload) {
        if (kind == websocket::frame_type::pong) l.last_pong.assign(payload.data(), payload.size());
    });
    l.read_loop();
    l.write(transport::encode_message(hello(agent_id), o.json_text), "sending hello");
    l.await([&] { return l.welcome.has_value(); }, io_deadline, "waiting for welcome after hello");
}

/// A keep-alive HTTP connection to the hub's API, for the "handled" check. The hub drops idle
/// keep-alive connections (30 s), so a request that fails on a reused connection is sent once
/// more on a fresh one.
class api_client {
public:
    api_client(net::io_context& io, int port) : io_(io), port_(port), host_("127.0.0.1:" + std::to_string(port)) {
        connect();
    }

    /// GET `target`, expecting 200 and a JSON body.
    core::json get(const std::string& target) {
        http::response<http::string_body> res;
        auto ec = request(target, res);
        if (ec && ec != beast::error::timeout) {
            connect();
            res = {};
            ec = request(target, res);
        }
        if (ec) fail("GET " + target + " failed: " + ec.message());
        if (res.result_int() != 200)
            fail("GET " + target + " answered " + std::to_string(res.result_int()) + ": " + res.body());
        return core::json::parse(res.body(), nullptr, false);
    }

private:
    void connect() {
        stream_.emplace(io_);
        buffer_.clear();
        connect_tcp(io_, *stream_, port_);
    }

    error_code request(const std::string& target, http::response<http::string_body>& res) {
        http::request<http::empty_body> req(http::verb::get, target, 11);
        req.set(http::field::host, host_);
        std::optional<error_code> result;
        stream_->expires_after(io_deadline);
        http::async_write(*stream_, req, [&](error_code ec, std::size_t) {
            if (ec) result = ec;
            else http::async_read(*stream_, buffer_, res, [&](error_code rec, std::size_t) { result = rec; });
        });
        if (!run_until(io_, [&] { return result.has_value(); }, io_deadline + std::chrono::seconds(1)))
            return beast::error::timeout;
        return *result;
    }

    net::io_context& io_;
    int port_;
    std::string host_;
    std::optional<beast::tcp_stream> stream_;
    beast::flat_buffer buffer_;
};

/// One run's frames: `frames - 1` copies of `body`, then `last`, whose last message carries the
/// marker load the "handled" check looks for.
struct frame_set {
    std::string body;
    std::string last;
    int frames = 0;
    std::size_t bytes = 0;
};

frame_set make_frames(int messages, int per_frame, double marker, bool json_text) {
    const std::string plain = transport::encode_message(heartbeat(0.5), json_text);
    const int last_count = messages % per_frame == 0 ? per_frame : messages % per_frame;
    std::vector<std::string> body(static_cast<std::size_t>(std::min(per_frame, messages)), plain);
    std::vector<std::string> last(static_cast<std::size_t>(last_count), plain);
    last.back() = transport::encode_message(heartbeat(marker), json_text);
    frame_set f;
    f.body = transport::join_encoded(body, json_text);
    f.last = transport::join_encoded(last, json_text);
    f.frames = (messages + per_frame - 1) / per_frame;
    f.bytes = f.body.size() * static_cast<std::size_t>(f.frames - 1) + f.last.size();
    return f;
}

double cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
    return s(u.ru_utime) + s(u.ru_stime);
}

/// On-CPU time and run-queue wait summed over a process's threads (/proc/PID/task/*/schedstat,
/// nanoseconds), in seconds; zeros when `pid` is 0 or gone.
struct sched_times {
    double cpu_s = 0;
    double wait_s = 0;
};

sched_times sched_of(int pid) {
    sched_times t;
    if (pid == 0) return t;
    std::error_code ec;
    for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
        std::ifstream in(task.path() / "schedstat");
        double cpu_ns = 0, wait_ns = 0;
        if (in >> cpu_ns >> wait_ns) {
            t.cpu_s += cpu_ns / 1e9;
            t.wait_s += wait_ns / 1e9;
        }
    }
    return t;
}

struct run_result {
    double read_s = 0;     // until the pong after the last frame
    double handled_s = 0;  // until the hub's API showed the last heartbeat
    double client_cpu_s = 0;
    sched_times hub;  // the hub's threads over the run (with --hub-pid)
    int polls = 0;    // GETs until the last heartbeat showed (1 when the strand order held)
};

/// Writes the frames back to back (each write starts when the last one completed), pings, waits
/// for the pong, then asks the hub for the agent until its load shows the marker.
run_result timed_run(mesh_link& l, api_client& api, const std::string& agent_id, const frame_set& f, double marker,
                     const std::string& token, int hub_pid) {
    int written = 0;
    std::string write_error;
    std::function<void()> write_next = [&] {
        const std::string& frame = written + 1 < f.frames ? f.body : f.last;
        l.ws.async_write(net::buffer(frame), [&](error_code ec, std::size_t) {
            if (ec) return void(write_error = "writing frame " + std::to_string(written + 1) + ": " + ec.message());
            if (++written < f.frames) return write_next();
            l.ws.async_ping(websocket::ping_data(token.c_str()), [&](error_code pec) {
                if (pec) write_error = "writing the ping: " + pec.message();
            });
        });
    };
    run_result r;
    l.last_pong.clear();
    const double cpu0 = cpu_seconds();
    const sched_times hub0 = sched_of(hub_pid);
    const auto t0 = steady::now();
    write_next();
    l.await([&] { return l.last_pong == token || !write_error.empty(); }, run_deadline,
            "waiting for the pong after " + std::to_string(f.frames) + " frames");
    if (!write_error.empty()) fail(write_error);
    r.read_s = std::chrono::duration<double>(steady::now() - t0).count();
    for (;;) {
        ++r.polls;
        auto agent = api.get("/api/v1/agents/" + agent_id);
        if (agent.is_object() && agent.contains("load") && agent["load"].value("cpu", -1.0) == marker) break;
        if (steady::now() - t0 > run_deadline)
            fail("the hub never showed the last heartbeat of the run (agent record: " + agent.dump() + ")");
    }
    r.handled_s = std::chrono::duration<double>(steady::now() - t0).count();
    r.client_cpu_s = cpu_seconds() - cpu0;
    const sched_times hub1 = sched_of(hub_pid);
    r.hub = {hub1.cpu_s - hub0.cpu_s, hub1.wait_s - hub0.wait_s};
    return r;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

double round1(double v) { return static_cast<double>(static_cast<long long>(v * 10 + 0.5)) / 10; }
double round3(double v) { return static_cast<double>(static_cast<long long>(v * 1000 + 0.5)) / 1000; }

nlohmann::ordered_json machine() {
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
    return {{"cores", sysconf(_SC_NPROCESSORS_ONLN)}, {"mem", pages > 0 && page > 0 ? pages * page : 0}};
}

/// Warm-up, then `runs` timed runs at one per-frame setting; the JSON object for it.
nlohmann::ordered_json measure(mesh_link& l, api_client& api, const std::string& agent_id, const options& o,
                               int per_frame, int& marker_seq) {
    auto next_marker = [&] { return ++marker_seq / 1000.0; };  // a fresh, exactly printable load per run
    if (o.warmup > 0) {
        double m = next_marker();
        timed_run(l, api, agent_id, make_frames(o.warmup, per_frame, m, o.json_text), m,
                  "warmup-" + std::to_string(marker_seq), o.hub_pid);
    }
    std::vector<double> rates, read_rates, cpu_share, hub_us, hub_cpu, hub_wait;
    std::vector<int> polls;
    std::size_t bytes = 0;
    int frames = 0;
    for (int i = 0; i < o.runs; ++i) {
        double m = next_marker();
        auto f = make_frames(o.messages, per_frame, m, o.json_text);
        auto r = timed_run(l, api, agent_id, f, m, "run-" + std::to_string(marker_seq), o.hub_pid);
        rates.push_back(o.messages / r.handled_s);
        read_rates.push_back(o.messages / r.read_s);
        cpu_share.push_back(100.0 * r.client_cpu_s / r.handled_s);
        hub_us.push_back(1e6 * r.hub.cpu_s / o.messages);
        hub_cpu.push_back(100.0 * r.hub.cpu_s / r.handled_s);
        hub_wait.push_back(100.0 * r.hub.wait_s / r.handled_s);
        polls.push_back(r.polls);
        bytes = f.bytes;
        frames = f.frames;
    }
    const double rate = median(rates);
    std::vector<double> rounded;
    for (double v : rates) rounded.push_back(round1(v));
    auto hub_figure = [&](const std::vector<double>& v, double (*round)(double)) -> nlohmann::ordered_json {
        return o.hub_pid ? nlohmann::ordered_json(round(median(v))) : nlohmann::ordered_json();
    };
    return {{"system", "orbitmesh"},
            {"name", "frame_throughput"},
            {"metric", "msgs_per_s"},
            {"value", round1(rate)},
            {"unit", "msgs/s"},
            {"config", {{"encoding", encoding_name(o.json_text)}, {"per_frame", per_frame}, {"messages", o.messages}}},
            {"machine", machine()},
            {"commit", ORBITMESH_COMMIT},
            {"extra", {{"runs", o.runs},
                       {"stat", "median"},
                       {"runs_msgs_per_s", rounded},
                       {"read_msgs_per_s", round1(median(read_rates))},
                       {"frames", frames},
                       {"wire_bytes", bytes},
                       {"wire_mb_per_s", round1(rate * static_cast<double>(bytes) / o.messages / 1e6)},
                       {"client_cpu_percent", round1(median(cpu_share))},
                       {"hub_cpu_us_per_msg", hub_figure(hub_us, round3)},
                       {"hub_cpu_percent", hub_figure(hub_cpu, round1)},  // of one core, all threads
                       {"hub_runqueue_wait_percent", hub_figure(hub_wait, round1)},  // runnable, no CPU free
                       {"handled_check_gets", polls},
                       {"warmup_messages", o.warmup},
                       {"message", "heartbeat {load:{cpu, mem, running}}"},
                       {"clock", "first write until GET /api/v1/agents/ID shows the last heartbeat "
                                 "(read_msgs_per_s: until the pong of a ping sent after the last frame)"}}}};
}

}  // namespace

int main(int argc, char** argv) {
    const options o = parse(argc, argv);
    const std::string agent_id = "frame-bench-" + std::to_string(getpid());
    net::io_context io{1};
    mesh_link link(io);
    join_as_agent(link, o, agent_id);
    api_client api(io, o.port);

    std::vector<int> settings{1};
    if (o.per_frame != 1) settings.push_back(o.per_frame);
    int marker_seq = 0;
    std::string text, summary;
    for (int per_frame : settings) {
        auto out = measure(link, api, agent_id, o, per_frame, marker_seq);
        text += out.dump() + "\n";
        char part[160];
        const auto& extra = out["extra"];
        std::snprintf(part, sizeof part, "%s%d/frame %.0f msgs/s (read %.0f", summary.empty() ? "" : ", ", per_frame,
                      out["value"].get<double>(), extra["read_msgs_per_s"].get<double>());
        summary += part;
        if (o.hub_pid) {
            std::snprintf(part, sizeof part, "; hub %.2f us CPU/msg, runnable without a CPU %.0f%% of the run",
                          extra["hub_cpu_us_per_msg"].get<double>(),
                          extra["hub_runqueue_wait_percent"].get<double>());
            summary += part;
        }
        summary += ")";
    }

    std::optional<error_code> closed;
    link.ws.async_close(websocket::close_reason(websocket::close_code::normal, "benchmark done"),
                        [&](error_code ec) { closed = ec; });
    run_until(io, [&] { return closed.has_value(); }, std::chrono::seconds(2));

    if (o.json_file.empty()) std::fwrite(text.data(), 1, text.size(), stdout);
    else std::ofstream(o.json_file) << text;
    std::fprintf(stderr, "frame_throughput %s: %s; %d messages, median of %d, heartbeats on one /mesh connection\n",
                 encoding_name(o.json_text).c_str(), summary.c_str(), o.messages, o.runs);
    return 0;
}
