// frame_fuzz: sends malformed agent messages to a running hub over real `/mesh` connections and
// checks that each one closes its connection with 1007 and the reason the hub's parser gives
// (issue 17: one bad frame must never stop the hub). MessagePack and JSON frames, fields of the
// wrong type nested anywhere, out of range, missing, bad `t`, not a map, batches whose last
// message is bad; malformed hellos, and malformed messages after a valid hello and welcome.
//
//   frame_fuzz --port N [--messages 100000] [--connections 8] [--seed S] [--json FILE]
//
// Each malformed message gets its own connection (the first one closes it). Prints one JSON
// object on stdout (or to --json FILE) and a summary line on stderr; exits 0 when every message
// was closed with 1007 and its reason, 1 otherwise (the hub unreachable, a connection that ended
// any other way), 2 on bad flags. The agents it says hello as offer no real handler, so the
// dispatcher never hands them a job.
#include "transport/asio.hpp"  // first: <utility> before any Asio header (STYLE §4)

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include "bench/command_line.hpp"
#include "bench/fuzz_messages.hpp"
#include "transport/codec.hpp"

using namespace orbitmesh;

namespace {

namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;
using steady = std::chrono::steady_clock;

struct options {
    int port = 0;
    long messages = 100'000;
    int connections = 8;
    std::uint64_t seed = 17;
    std::string json_file;
};

options parse(int argc, char** argv) {
    bench::command_line cl("frame_fuzz",
                           "usage: frame_fuzz --port N [--messages N] [--connections N] [--seed S] [--json FILE]", argc,
                           argv);
    options o;
    while (const char* flag = cl.next_flag()) {
        const std::string a = flag;
        if (a == "--port") o.port = static_cast<int>(cl.whole_number(1, 65535));
        else if (a == "--messages") o.messages = cl.whole_number(1, 100'000'000);
        else if (a == "--connections") o.connections = static_cast<int>(cl.whole_number(1, 256));
        else if (a == "--seed") o.seed = static_cast<std::uint64_t>(cl.whole_number(0, 1L << 62));
        else if (a == "--json") o.json_file = cl.value();
        else cl.usage_error("unknown flag " + a);
    }
    if (o.port == 0) cl.usage_error("--port is required (the hub's port on 127.0.0.1)");
    return o;
}

/// What happened to every case, and a few examples of anything that went wrong.
struct tally {
    long next = 0;  // cases handed out
    long closed_1007 = 0;
    long wrong_reason = 0;
    long failed = 0;  // the connection ended without a close frame, or never opened
    long json_frames = 0;
    std::map<int, long> other_codes;
    std::vector<std::string> problems;  // the first few, for the report

    void problem(std::string text) {
        if (problems.size() < 10) problems.push_back(std::move(text));
    }
};

using ws_stream = websocket::stream<beast::tcp_stream>;

net::awaitable<void> open(ws_stream& ws, const tcp::endpoint& hub, bool json_text, error_code& ec) {
    auto& tcp_layer = beast::get_lowest_layer(ws);
    tcp_layer.expires_after(std::chrono::seconds(10));
    co_await tcp_layer.async_connect(hub, net::redirect_error(net::use_awaitable, ec));
    if (ec) co_return;
    tcp_layer.socket().set_option(tcp::no_delay(true));
    tcp_layer.expires_never();
    websocket::stream_base::timeout t{std::chrono::seconds(10), std::chrono::seconds(10), false};
    ws.set_option(t);
    const std::string sub = json_text ? "orbitmesh.json" : "orbitmesh.msgpack";
    ws.set_option(websocket::stream_base::decorator(
        [sub](websocket::request_type& req) { req.set(beast::http::field::sec_websocket_protocol, sub); }));
    ws.text(json_text);
    co_await ws.async_handshake("127.0.0.1", "/mesh", net::redirect_error(net::use_awaitable, ec));
}

/// Reads frames until the hub's welcome; false (with `ec` or not) when the connection ends first.
net::awaitable<bool> await_welcome(ws_stream& ws, bool json_text, error_code& ec) {
    beast::flat_buffer in;
    for (int frames = 0; frames < 16; ++frames) {
        co_await ws.async_read(in, net::redirect_error(net::use_awaitable, ec));
        if (ec) co_return false;
        auto data = in.data();
        for (auto& m : transport::decode_frame({static_cast<const char*>(data.data()), data.size()}, json_text))
            if (m.value("t", "") == "welcome") co_return true;
        in.consume(in.size());
    }
    co_return false;
}

/// One case on its own connection: [hello, welcome,] the bad frame, then the hub's close.
net::awaitable<void> run_case(const tcp::endpoint& hub, const fuzz::fuzz_case& c, bool json_text,
                              const std::string& agent_id, tally& t) {
    ws_stream ws(co_await net::this_coro::executor);
    error_code ec;
    co_await open(ws, hub, json_text, ec);
    if (ec) {
        ++t.failed;
        t.problem("cannot open /mesh: " + ec.message());
        co_return;
    }
    if (c.after_hello) {
        co_await ws.async_write(net::buffer(transport::encode_message(fuzz::fuzz_hello(agent_id), json_text)),
                                net::redirect_error(net::use_awaitable, ec));
        if (ec || !co_await await_welcome(ws, json_text, ec)) {
            ++t.failed;
            t.problem("no welcome after a valid hello: " + (ec ? ec.message() : "none in 16 frames"));
            co_return;
        }
    }
    co_await ws.async_write(net::buffer(c.frame), net::redirect_error(net::use_awaitable, ec));
    beast::flat_buffer in;
    for (int frames = 0; frames < 64 && !ec; ++frames) {  // whatever the hub still had queued, then the close
        co_await ws.async_read(in, net::redirect_error(net::use_awaitable, ec));
        in.consume(in.size());
    }
    if (ec != websocket::error::closed) {
        ++t.failed;
        t.problem(c.mutation + ": the connection ended without a close frame (" + ec.message() + ")");
        co_return;
    }
    const int code = ws.reason().code;
    const std::string reason(ws.reason().reason.data(), ws.reason().reason.size());
    if (code != 1007) {
        ++t.other_codes[code];
        t.problem(c.mutation + ": closed with " + std::to_string(code) + " \"" + reason + "\", expected 1007 \"" +
                  c.reason + "\"");
    } else if (reason.empty() || c.reason.compare(0, reason.size(), reason) != 0) {
        ++t.wrong_reason;
        t.problem(c.mutation + ": reason \"" + reason + "\", expected \"" + c.reason + "\"");
    } else {
        ++t.closed_1007;
    }
}

net::awaitable<void> worker(int slot, const options& o, const tcp::endpoint& hub, tally& t) {
    fuzz::message_fuzzer gen(o.seed * 1000 + static_cast<std::uint64_t>(slot));
    char id[40];
    std::snprintf(id, sizeof id, "0190f022-0000-7000-8000-%012d", slot);
    for (long n = 0; t.next < o.messages && t.failed < 100; ++n) {
        ++t.next;
        const bool json_text = (n + slot) % 2 == 1;  // half the cases each way
        t.json_frames += json_text;
        co_await run_case(hub, gen.next(json_text), json_text, id, t);
    }
}

std::string report(const options& o, const tally& t, double seconds) {
    core::json other = core::json::object();
    for (const auto& [code, n] : t.other_codes) other[std::to_string(code)] = n;
    core::json out{{"system", "orbitmesh"},
                   {"name", "frame_fuzz"},
                   {"metric", "malformed_messages_closed_1007"},
                   {"value", t.closed_1007},
                   {"unit", "messages"},
                   {"config", {{"messages", o.messages}, {"connections", o.connections}, {"seed", o.seed}}},
                   {"extra",
                    {{"sent", t.next},
                     {"json_frames", t.json_frames},
                     {"wrong_reason", t.wrong_reason},
                     {"other_close_codes", other},
                     {"failed", t.failed},
                     {"seconds", seconds},
                     {"messages_per_s", seconds > 0 ? static_cast<double>(t.next) / seconds : 0.0},
                     {"problems", t.problems}}}};
    return out.dump();
}

}  // namespace

int main(int argc, char** argv) {
    const auto o = parse(argc, argv);
    net::io_context io;
    const tcp::endpoint hub(net::ip::make_address_v4("127.0.0.1"), static_cast<unsigned short>(o.port));
    tally t;
    const auto start = steady::now();
    for (int slot = 0; slot < o.connections; ++slot)
        net::co_spawn(io, worker(slot, o, hub, t), [&t](std::exception_ptr e) {
            if (!e) return;
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                ++t.failed;
                t.problem(std::string("worker stopped: ") + ex.what());
            }
        });
    io.run();
    const double seconds = std::chrono::duration<double>(steady::now() - start).count();
    const auto json = report(o, t, seconds);
    if (o.json_file.empty()) {
        std::printf("%s\n", json.c_str());
    } else {
        std::ofstream(o.json_file) << json << "\n";
    }
    const bool ok = t.closed_1007 == t.next && t.next == o.messages;
    std::fprintf(stderr, "frame_fuzz: %ld of %ld malformed messages closed with 1007 and their reason in %.1fs (%.0f/s)%s\n",
                 t.closed_1007, t.next, seconds, seconds > 0 ? static_cast<double>(t.next) / seconds : 0.0,
                 ok ? "" : "; FAILED");
    for (const auto& p : t.problems) std::fprintf(stderr, "  %s\n", p.c_str());
    return ok ? 0 : 1;
}
