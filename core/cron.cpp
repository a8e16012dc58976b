#include "core/cron.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <vector>

#include "core/error.hpp"

namespace orbitmesh::core {

namespace {

struct field_spec {
    const char* name;
    int min, max;
    const std::array<std::string_view, 12>* names;  // names[i] is the value names_from + i
    int names_from;
    bool day = false;      // takes `?`
    bool weekday = false;  // 7 is Sunday too
};

constexpr std::array<std::string_view, 12> month_names = {"jan", "feb", "mar", "apr", "may", "jun",
                                                          "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<std::string_view, 12> weekday_names = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

constexpr field_spec second_field{"second", 0, 59, nullptr, 0};
constexpr field_spec minute_field{"minute", 0, 59, nullptr, 0};
constexpr field_spec hour_field{"hour", 0, 23, nullptr, 0};
constexpr field_spec day_field{"day-of-month", 1, 31, nullptr, 0, true};
constexpr field_spec month_field{"month", 1, 12, &month_names, 1};
constexpr field_spec weekday_field{"day-of-week", 0, 7, &weekday_names, 0, true, true};

error bad(std::string_view text, const field_spec& f, const std::string& why) {
    return error(error_kind::invalid_input, "cron \"" + std::string(text) + "\": " + f.name + " field " + why);
}

int value_of(std::string_view expr, std::string_view v, const field_spec& f) {
    if (v.empty()) throw bad(expr, f, "has an empty value");
    if (std::isdigit(static_cast<unsigned char>(v[0]))) {
        int n = 0;
        for (char c : v) {
            if (!std::isdigit(static_cast<unsigned char>(c)) || n > 1000)
                throw bad(expr, f, "has \"" + std::string(v) + "\", which is not a number");
            n = n * 10 + (c - '0');
        }
        if (n < f.min || n > f.max)
            throw bad(expr, f, "has " + std::to_string(n) + ", outside " + std::to_string(f.min) + "-" + std::to_string(f.max));
        return n;
    }
    std::string lower;
    for (char c : v) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (f.names != nullptr)
        for (std::size_t i = 0; i < f.names->size(); ++i)
            if (!(*f.names)[i].empty() && (*f.names)[i] == lower) return static_cast<int>(i) + f.names_from;
    if (lower.find_first_of("lw#") != std::string::npos)
        throw bad(expr, f, "uses \"" + std::string(v) + "\": L, W and # are not supported (list the days instead)");
    throw bad(expr, f, "has \"" + std::string(v) + "\", which is neither a number nor a name" +
                           (f.names ? std::string(f.names == &month_names ? " (JAN…DEC)" : " (SUN…SAT)") : ""));
}

// Sets the bits of one comma-separated field; returns whether it began with `*` (or `?`).
template <std::size_t N>
bool parse_field(std::string_view expr, std::string_view text, const field_spec& f, std::bitset<N>& bits) {
    const bool star = !text.empty() && (text[0] == '*' || text[0] == '?');
    std::size_t from = 0;
    while (from <= text.size()) {
        auto comma = text.find(',', from);
        auto item = text.substr(from, comma == std::string_view::npos ? std::string_view::npos : comma - from);
        from = comma == std::string_view::npos ? text.size() + 1 : comma + 1;
        int step = 1;
        const bool stepped = item.find('/') != std::string_view::npos;
        if (stepped) {
            auto slash = item.find('/');
            step = value_of(expr, item.substr(slash + 1), field_spec{f.name, 1, f.max + 1, nullptr, 0});
            item = item.substr(0, slash);
        }
        int lo = f.min, hi = f.weekday ? 6 : f.max;
        if (item == "*" || (item == "?" && f.day)) {
        } else if (auto dash = item.find('-'); dash != std::string_view::npos) {
            lo = value_of(expr, item.substr(0, dash), f);
            hi = value_of(expr, item.substr(dash + 1), f);
            if (lo > hi) throw bad(expr, f, "has the range " + std::string(item) + ", which runs backwards (write a-b with a ≤ b)");
        } else {
            lo = value_of(expr, item, f);
            if (!stepped) hi = lo;
        }
        for (int v = lo; v <= hi; v += step) bits.set(static_cast<std::size_t>(f.weekday && v == 7 ? 0 : v));
    }
    return star;
}

std::string_view macro(std::string_view text) {
    if (text == "@yearly" || text == "@annually") return "0 0 1 1 *";
    if (text == "@monthly") return "0 0 1 * *";
    if (text == "@weekly") return "0 0 * * 0";
    if (text == "@daily" || text == "@midnight") return "0 0 * * *";
    if (text == "@hourly") return "0 * * * *";
    return {};
}

template <std::size_t N>
std::optional<int> next_bit(const std::bitset<N>& bits, int from) {
    for (auto i = static_cast<std::size_t>(std::max(from, 0)); i < N; ++i)
        if (bits.test(i)) return static_cast<int>(i);
    return std::nullopt;
}

// The first wall time (local seconds) ≥ `w` whose fields all match, within `limit`.
std::optional<std::int64_t> next_wall(const cron_expr& c, std::int64_t w, std::int64_t limit) {
    std::int64_t day = w >= 0 ? w / 86400 : (w - 86399) / 86400;
    std::int64_t sod = w - day * 86400;
    while (day * 86400 <= limit) {
        const auto date = civil_from_days(day);
        if (!c.months.test(date.month)) {
            day = days_from_civil(date.month == 12 ? date.year + 1 : date.year, date.month % 12 + 1, 1), sod = 0;
            continue;
        }
        if (!c.day_matches(date.year, date.month, date.day)) {
            ++day, sod = 0;
            continue;
        }
        const int h = static_cast<int>(sod / 3600), m = static_cast<int>(sod % 3600 / 60), s = static_cast<int>(sod % 60);
        auto hh = next_bit(c.hours, h);
        if (!hh) {
            ++day, sod = 0;
            continue;
        }
        if (*hh > h) {
            sod = *hh * 3600;
            continue;
        }
        auto mm = next_bit(c.minutes, m);
        if (!mm) {
            sod = (h + 1) * 3600;
            if (sod >= 86400) ++day, sod = 0;
            continue;
        }
        if (*mm > m) {
            sod = h * 3600 + *mm * 60;
            continue;
        }
        auto ss = next_bit(c.seconds, s);
        if (!ss) {
            sod = h * 3600 + (m + 1) * 60;
            if (sod >= 86400) ++day, sod = 0;
            continue;
        }
        return day * 86400 + h * 3600 + m * 60 + *ss;
    }
    return std::nullopt;
}

// The instants at which wall time `w` fires (see next_fire for gaps and overlaps).
std::vector<std::int64_t> instants_of(const cron_expr& c, const time_zone& zone, std::int64_t w) {
    auto v = zone.from_local(w);
    if (v.size() == 2 && !c.hours_any) v.resize(1);
    if (!v.empty() || c.hours_any) return v;
    for (auto t = zone.next_transition(w - 2 * 86400); t && *t <= w + 86400; t = zone.next_transition(*t))
        if (w >= *t + zone.offset_at(*t - 1) && w < *t + zone.offset_at(*t)) return {*t};
    return {};
}

}  // namespace

bool cron_expr::day_matches(int year, unsigned month, unsigned day) const noexcept {
    const bool dom = days.test(day);
    const bool dow = weekdays.test(weekday_from_days(days_from_civil(year, month, day)));
    return (days_any || weekdays_any) ? dom && dow : dom || dow;
}

cron_expr parse_cron(std::string_view text) {
    std::string_view body = text;
    if (!text.empty() && text[0] == '@') {
        body = macro(text);
        if (body.empty())
            throw error(error_kind::invalid_input, "cron \"" + std::string(text) +
                                                       "\" is not a known macro (use @yearly, @monthly, @weekly, @daily or @hourly)");
    }
    std::vector<std::string_view> fields;
    for (std::size_t i = 0; i < body.size();) {
        while (i < body.size() && std::isspace(static_cast<unsigned char>(body[i]))) ++i;
        std::size_t j = i;
        while (j < body.size() && !std::isspace(static_cast<unsigned char>(body[j]))) ++j;
        if (j > i) fields.push_back(body.substr(i, j - i));
        i = j;
    }
    if (fields.size() != 5 && fields.size() != 6)
        throw error(error_kind::invalid_input, "cron \"" + std::string(text) + "\" has " + std::to_string(fields.size()) +
                                                   " fields (use 5: minute hour day-of-month month day-of-week, or 6 with seconds first)");
    cron_expr c;
    c.text = std::string(text);
    c.has_seconds = fields.size() == 6;
    std::size_t i = 0;
    if (c.has_seconds) parse_field(text, fields[i++], second_field, c.seconds);
    else c.seconds.set(0);
    parse_field(text, fields[i++], minute_field, c.minutes);
    parse_field(text, fields[i++], hour_field, c.hours);
    c.days_any = parse_field(text, fields[i++], day_field, c.days);
    parse_field(text, fields[i++], month_field, c.months);
    c.weekdays_any = parse_field(text, fields[i++], weekday_field, c.weekdays);
    c.hours_any = c.hours.all();
    return c;
}

std::optional<std::int64_t> next_fire(const cron_expr& c, const time_zone& zone, std::int64_t after_s) {
    constexpr std::int64_t margin = 4 * 3600;  // more than any zone's DST shift
    const auto near = zone.next_transition(after_s - margin);
    const bool dst_near = near && *near <= after_s + margin;
    std::int64_t w = zone.to_local(after_s) + (dst_near ? -margin : 1);
    const std::int64_t limit = zone.to_local(after_s) + 50LL * 366 * 86400;
    std::optional<std::int64_t> best;
    for (int guard = 0; guard < 200'000; ++guard) {
        auto wc = next_wall(c, w, limit);
        if (!wc) break;
        for (auto u : instants_of(c, zone, *wc))
            if (u > after_s && (!best || u < *best)) best = u;
        if (best) {
            const auto t = zone.next_transition(after_s - margin);
            if (!t || *t > *best + margin || *wc > zone.to_local(*best) + margin) break;
        }
        w = *wc + 1;
    }
    return best;
}

}  // namespace orbitmesh::core
