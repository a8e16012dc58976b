#include "bench/fuzz_messages.hpp"

#include <limits>
#include <vector>

#include "core/agent_messages.hpp"
#include "core/error.hpp"
#include "transport/codec.hpp"

using orbitmesh::core::json;
namespace core = orbitmesh::core;
namespace transport = orbitmesh::transport;

namespace fuzz {

namespace {

/// One valid message of every type an agent sends, nested fields filled in, so a mutation can
/// reach them.
const std::vector<json>& templates() {
    static const std::vector<json> all = [] {
        std::vector<json> t;
        t.push_back(fuzz_hello("0190f022-0000-7000-8000-000000000000"));
        t.push_back({{"t", "heartbeat"}, {"load", {{"cpu", 0.5}, {"mem", 0.25}, {"running", 0}}}});
        t.push_back({{"t", "ack"}, {"job_id", "j"}, {"attempt", 1}});
        t.push_back({{"t", "nack"}, {"job_id", "j"}, {"attempt", 1}, {"reason", "busy"}});
        t.push_back({{"t", "progress"}, {"job_id", "j"}, {"attempt", 1}, {"percent", 50}, {"message", "half"}});
        t.push_back({{"t", "output"}, {"job_id", "j"}, {"attempt", 1}, {"seq", 1}, {"stream", "stdout"}, {"data", "x"}});
        t.push_back({{"t", "result"}, {"job_id", "j"}, {"attempt", 1}, {"status", "succeeded"}, {"exit_code", 0},
                     {"output", "x"}, {"error", ""}});
        t.push_back({{"t", "reply"}, {"call_id", "c"}, {"value", "pong"}});
        t.push_back({{"t", "twin_reported"}, {"version", 1}, {"reported", {{"os", "linux"}}}});
        return t;
    }();
    return all;
}

/// Every JSON pointer inside `v` except "/t" (the type is mutated on purpose, elsewhere).
void paths_of(const json& v, const json::json_pointer& at, std::vector<json::json_pointer>& out) {
    if (v.is_object()) {
        for (const auto& [k, child] : v.items()) {
            if (at.empty() && k == "t") continue;
            out.push_back(at / k);
            paths_of(child, at / k, out);
        }
    } else if (v.is_array()) {
        for (std::size_t i = 0; i < v.size(); ++i) {
            out.push_back(at / i);
            paths_of(v[i], at / i, out);
        }
    }
}

std::string encode(const json& frame, bool json_text) {
    if (!frame.is_array()) return transport::encode_message(frame, json_text);
    std::vector<json> msgs(frame.begin(), frame.end());
    return transport::encode_frame(msgs, json_text);
}

/// What the hub says about this frame, or "" when it would take every message in it.
std::string verdict(const std::string& bytes, bool json_text) {
    try {
        for (auto& m : transport::decode_frame(bytes, json_text)) core::protocol::parse_agent_message(std::move(m));
    } catch (const std::exception& e) {
        return e.what();
    }
    return "";
}

}  // namespace

json fuzz_hello(const std::string& agent_id) {
    return {{"t", "hello"},
            {"protocol", 1},
            {"agent_id", agent_id},
            {"name", "fuzz-" + agent_id.substr(agent_id.size() - 4)},
            {"tags", {{"role", "fuzz"}}},
            {"capabilities", {"fuzz"}},
            {"handlers", {"fuzz.never"}},
            {"concurrency", 1},
            {"version", "frame-fuzz"},
            {"running", {{{"job_id", "j"}, {"attempt", 1}}}}};
}

json message_fuzzer::random_value(int depth) {
    switch (pick(depth > 2 ? 9 : 11)) {
    case 0: return static_cast<std::int64_t>(rng_() % 2000) - 1000;
    case 1: return std::numeric_limits<std::uint64_t>::max() - rng_() % 1000;
    case 2: return std::uniform_real_distribution<double>(-1e12, 1e12)(rng_);
    case 3: return std::string(pick(24), static_cast<char>('a' + pick(26)));
    case 4: return "";
    case 5: return pick(2) == 0;
    case 6: return nullptr;
    case 7: return json::binary({1, 2, 3});
    case 8: return std::numeric_limits<std::int64_t>::min();
    case 9: {
        json a = json::array();
        for (std::size_t i = pick(4); i > 0; --i) a.push_back(random_value(depth + 1));
        return a;
    }
    default: {
        json o = json::object();
        for (std::size_t i = pick(4); i > 0; --i) o["k" + std::to_string(pick(100))] = random_value(depth + 1);
        return o;
    }
    }
}

json message_fuzzer::mutate(json m, std::string& what) {
    std::vector<json::json_pointer> paths;
    paths_of(m, json::json_pointer(), paths);
    const auto p = paths.empty() ? json::json_pointer("/t") : paths[pick(paths.size())];
    switch (pick(10)) {
    case 0: case 1: case 2: case 3:
        what = "wrong type at " + p.to_string();
        m[p] = random_value(0);
        break;
    case 4:
        what = "dropped " + p.to_string();
        m[p.parent_pointer()].is_object() ? (void)m[p.parent_pointer()].erase(p.back()) : (void)(m[p] = nullptr);
        break;
    case 5: case 6: {
        static const json extremes = {0, -1, std::int64_t{1} << 40, 1e300, -1e9, "", std::string(300, 'x')};
        what = "out of range at " + p.to_string();
        m[p] = extremes[pick(extremes.size())];
        break;
    }
    case 7: {
        static const json types = {"assign", "welcome", "cancel", "no-such-type", 42, nullptr, "", "HELLO"};
        what = "bad t";
        m["t"] = types[pick(types.size())];
        break;
    }
    case 8:
        what = "not a map";
        m = pick(2) ? json(static_cast<std::int64_t>(rng_() % 100)) : json::array({1, "two", nullptr});
        break;
    default:
        what = "nested 12 deep at " + p.to_string();
        json deep = json::array();
        for (int i = 0; i < 12; ++i) deep = json::array({deep});
        m[p] = deep;
        break;
    }
    return m;
}

fuzz_case message_fuzzer::next(bool json_text) {
    const auto& all = templates();
    for (int tries = 0; tries < 50; ++tries) {
        fuzz_case c;
        const json& base = all[pick(all.size())];
        c.after_hello = base.value("t", "") != "hello";
        json bad = mutate(base, c.mutation);
        json frame = bad;
        if (c.after_hello && pick(4) == 0) {  // a batch: valid messages first, the bad one last
            frame = json::array({all[1], bad});
            c.mutation += " (last of a batch)";
        }
        c.frame = encode(frame, json_text);
        c.reason = verdict(c.frame, json_text);
        if (!c.reason.empty()) return c;  // the mutation hit something the hub must refuse
    }
    fuzz_case c;  // 50 harmless mutations in a row is vanishingly rare; never return a valid one
    c.after_hello = true;
    c.mutation = "wrong type at /attempt (fallback)";
    c.frame = encode({{"t", "ack"}, {"job_id", "j"}, {"attempt", "1"}}, json_text);
    c.reason = verdict(c.frame, json_text);
    return c;
}

}  // namespace fuzz
