#include "core/ids.hpp"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <random>

namespace orbitmesh::core {

namespace {

struct id_state {
    std::mutex mu;
    std::mt19937_64 rng{std::random_device{}()};
    std::uint64_t last_ms = 0;
    std::uint16_t counter = 0;  // keeps ids from one process monotonic within a millisecond
};

id_state& state() {
    static id_state s;
    return s;
}

}  // namespace

std::string new_id() {
    auto& s = state();
    std::uint64_t ms = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                      std::chrono::system_clock::now().time_since_epoch())
                                                      .count());
    std::uint64_t rand_b;
    std::uint16_t seq;
    {
        std::lock_guard lock(s.mu);
        if (ms <= s.last_ms) {
            ms = s.last_ms;
            if (++s.counter == 0x0fff) {  // 12-bit counter spilled: borrow the next millisecond
                ++ms;
                s.counter = 0;
            }
        } else {
            s.counter = static_cast<std::uint16_t>(s.rng() & 0x3ff);
        }
        s.last_ms = ms;
        seq = s.counter;
        rand_b = s.rng();
    }
    unsigned char b[16];
    for (int i = 0; i < 6; ++i) b[i] = static_cast<unsigned char>(ms >> (8 * (5 - i)));
    b[6] = static_cast<unsigned char>(0x70 | ((seq >> 8) & 0x0f));
    b[7] = static_cast<unsigned char>(seq & 0xff);
    for (int i = 0; i < 8; ++i) b[8 + i] = static_cast<unsigned char>(rand_b >> (8 * i));
    b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
    char out[37];
    std::snprintf(out, sizeof out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                  b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
    return std::string(out, 36);
}

}  // namespace orbitmesh::core
