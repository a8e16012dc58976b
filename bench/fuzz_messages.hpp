#pragma once
// The frame fuzzer's generator: agent messages with one thing wrong — a field (nested ones too)
// of the wrong type, out of range or missing, a bad `t`, or no map at all — as MessagePack or
// JSON frames. Every case is checked against the hub's own parser on its wire form, so each one
// must close its connection with 1007, and the expected close reason is known.
#include <cstdint>
#include <random>
#include <string>

#include "core/json.hpp"

namespace fuzz {

struct fuzz_case {
    std::string frame;         // the encoded frame: one message, or an array whose last one is bad
    bool after_hello = false;  // send a valid hello (and wait for welcome) first
    std::string reason;        // what the hub must close with (1007)
    std::string mutation;      // what was done, for reports
};

/// Deterministic for a seed. Not thread-safe: one per worker.
class message_fuzzer {
public:
    explicit message_fuzzer(std::uint64_t seed) : rng_(seed) {}
    /// The next malformed case, encoded as JSON text when `json_text`, else MessagePack.
    fuzz_case next(bool json_text);

private:
    orbitmesh::core::json mutate(orbitmesh::core::json m, std::string& what);
    orbitmesh::core::json random_value(int depth);
    std::size_t pick(std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_); }

    std::mt19937_64 rng_;
};

/// The valid hello a fuzz connection opens with: handlers nobody submits, so the dispatcher
/// never gives a fuzz agent a real job.
orbitmesh::core::json fuzz_hello(const std::string& agent_id);

}  // namespace fuzz
