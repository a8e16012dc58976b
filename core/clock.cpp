#include "core/clock.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace orbitmesh::core {

std::int64_t now_ms() noexcept {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::int64_t steady_ms() noexcept {
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

namespace {

class system_clock_impl final : public clock {
public:
    std::int64_t now_ms() const noexcept override { return core::now_ms(); }
    std::int64_t steady_ms() const noexcept override { return core::steady_ms(); }
};

}  // namespace

const clock& clock::system() noexcept {
    static const system_clock_impl real;
    return real;
}

manual_clock::manual_clock() noexcept : wall_(core::now_ms()), steady_(core::steady_ms()) {}

void manual_clock::advance(std::int64_t ms) noexcept {
    if (ms <= 0) return;
    wall_ += ms;
    steady_ += ms;
}

std::string format_time(std::int64_t ms) {
    if (ms <= 0) return "";
    std::time_t secs = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    // Written digit by digit: this runs for every time field of every record served or stored,
    // where snprintf was a visible cost. Layout: 2026-11-27T18:00:00.123Z
    char buf[25] = "0000-00-00T00:00:00.000Z";
    auto put = [&buf](int at, int value, int width) {
        for (int i = width - 1; i >= 0; --i, value /= 10) buf[at + i] = static_cast<char>('0' + value % 10);
    };
    const int year = tm.tm_year + 1900;
    if (year < 0 || year > 9999) return "";
    put(0, year, 4);
    put(5, tm.tm_mon + 1, 2);
    put(8, tm.tm_mday, 2);
    put(11, tm.tm_hour, 2);
    put(14, tm.tm_min, 2);
    put(17, tm.tm_sec, 2);
    put(20, static_cast<int>(ms % 1000), 3);
    return std::string(buf, 24);
}

}  // namespace orbitmesh::core
