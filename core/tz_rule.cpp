#include "core/tz_rule.hpp"

#include <algorithm>
#include <cctype>

#include "core/time_zone.hpp"

namespace orbitmesh::core {

namespace {

struct cursor {
    std::string_view s;
    std::size_t i = 0;
    bool done() const { return i >= s.size(); }
    char peek() const { return done() ? '\0' : s[i]; }
    bool eat(char c) {
        if (peek() != c) return false;
        ++i;
        return true;
    }
    std::optional<int> number() {
        if (!std::isdigit(static_cast<unsigned char>(peek()))) return std::nullopt;
        int v = 0;
        while (std::isdigit(static_cast<unsigned char>(peek())) && v < 100000) v = v * 10 + (s[i++] - '0');
        return v;
    }
};

bool zone_name(cursor& c) {
    if (c.eat('<')) {
        while (!c.done() && c.peek() != '>') ++c.i;
        return c.eat('>');
    }
    std::size_t from = c.i;
    while (std::isalpha(static_cast<unsigned char>(c.peek()))) ++c.i;
    return c.i - from >= 3;
}

// [+-]hh[:mm[:ss]] in seconds, sign as written.
std::optional<int> clock_time(cursor& c) {
    int sign = 1;
    if (c.eat('-')) sign = -1;
    else c.eat('+');
    auto h = c.number();
    if (!h || *h > 167) return std::nullopt;
    int v = *h * 3600;
    if (c.eat(':')) {
        auto m = c.number();
        if (!m || *m > 59) return std::nullopt;
        v += *m * 60;
        if (c.eat(':')) {
            auto sec = c.number();
            if (!sec || *sec > 59) return std::nullopt;
            v += *sec;
        }
    }
    return sign * v;
}

std::optional<tz_rule::date> date_rule(cursor& c) {
    tz_rule::date d;
    if (c.eat('M')) {
        auto m = c.number();
        if (!m || !c.eat('.')) return std::nullopt;
        auto w = c.number();
        if (!w || !c.eat('.')) return std::nullopt;
        auto wd = c.number();
        if (!wd || *m < 1 || *m > 12 || *w < 1 || *w > 5 || *wd > 6) return std::nullopt;
        d.month = *m, d.week = *w, d.weekday = *wd;
    } else {
        d.kind = c.eat('J') ? 'J' : 'n';
        auto n = c.number();
        if (!n || *n > 365 || (d.kind == 'J' && *n < 1)) return std::nullopt;
        d.day = *n;
    }
    if (c.eat('/')) {
        auto t = clock_time(c);
        if (!t) return std::nullopt;
        d.time = *t;
    }
    return d;
}

// Local midnight (as days since the epoch) of the rule's date in `year`.
std::int64_t day_of(const tz_rule::date& d, int year) {
    if (d.kind == 'J') {
        auto day = days_from_civil(year, 1, 1) + d.day - 1;
        bool leap = days_in_month(year, 2) == 29;
        return day + ((leap && d.day >= 60) ? 1 : 0);
    }
    if (d.kind == 'n') return days_from_civil(year, 1, 1) + d.day;
    auto first = days_from_civil(year, static_cast<unsigned>(d.month), 1);
    auto wd = static_cast<int>(weekday_from_days(first));
    auto day = first + (d.weekday - wd + 7) % 7 + 7 * (d.week - 1);
    auto last = first + days_in_month(year, static_cast<unsigned>(d.month)) - 1;
    while (day > last) day -= 7;  // week 5 = the last such weekday
    return day;
}

}  // namespace

std::optional<tz_rule> parse_tz_rule(std::string_view text) {
    cursor c{text};
    tz_rule r;
    if (!zone_name(c)) return std::nullopt;
    auto std_off = clock_time(c);
    if (!std_off) return std::nullopt;
    r.std_offset = -*std_off;
    if (c.done()) return r;
    if (!zone_name(c)) return std::nullopt;
    r.has_dst = true;
    r.dst_offset = r.std_offset + 3600;
    if (c.peek() != ',' && !c.done()) {
        auto dst_off = clock_time(c);
        if (!dst_off) return std::nullopt;
        r.dst_offset = -*dst_off;
    }
    if (!c.eat(',')) return std::nullopt;  // a DST zone without rules: refuse rather than guess
    auto start = date_rule(c);
    if (!start || !c.eat(',')) return std::nullopt;
    auto end = date_rule(c);
    if (!end || !c.done()) return std::nullopt;
    r.start = *start;
    r.end = *end;
    return r;
}

std::vector<std::pair<std::int64_t, int>> tz_rule::transitions_in(int year) const {
    std::vector<std::pair<std::int64_t, int>> out;
    if (!has_dst) return out;
    // DST starts at a wall time of standard time and ends at a wall time of DST.
    out.emplace_back(day_of(start, year) * 86400 + start.time - std_offset, dst_offset);
    out.emplace_back(day_of(end, year) * 86400 + end.time - dst_offset, std_offset);
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace orbitmesh::core
