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
