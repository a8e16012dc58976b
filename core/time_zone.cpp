#include "core/time_zone.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>

#include "core/error.hpp"
#include "core/tz_rule.hpp"

namespace orbitmesh::core {

namespace {

constexpr int last_year = 2200;  // the POSIX rule is unrolled up to here

error bad_zone(const std::string& name, const std::string& why) {
    return error(error_kind::invalid_input, "time zone \"" + name + "\" " + why +
                                                " (use a tz database name such as UTC, Europe/Berlin or America/New_York)");
}

error missing_zone(const std::string& name, const std::string& dir) {
    return error(error_kind::invalid_input, "time zone \"" + name + "\" is not in the tz database at " + dir +
                                                " (use a name such as UTC, Europe/Berlin or America/New_York; is tzdata installed?)");
}

struct be_reader {
    std::string_view b;
    std::size_t at = 0;
    bool has(std::size_t n) const { return b.size() - at >= n && at <= b.size(); }
    std::int64_t get(int bytes) {
        std::uint64_t v = 0;
        for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(b[at++]);
        if (bytes == 4) return static_cast<std::int32_t>(static_cast<std::uint32_t>(v));
        return static_cast<std::int64_t>(v);
    }
};

struct tzif_counts {
    std::int64_t isut, isstd, leap, time, type, chars;
};

tzif_counts read_header(be_reader& r, const std::string& name, int& version) {
    if (!r.has(44) || r.b.substr(r.at, 4) != "TZif") throw bad_zone(name, "is not a TZif file");
    version = r.b[r.at + 4] == '\0' ? 1 : r.b[r.at + 4] - '0';
    r.at += 20;
    tzif_counts c{r.get(4), r.get(4), r.get(4), r.get(4), r.get(4), r.get(4)};
    if (c.type < 1 || c.time < 0 || c.time > 100'000 || c.type > 256 || c.chars < 0 || c.leap < 0 || c.isut < 0 ||
        c.isstd < 0)
        throw bad_zone(name, "has a damaged TZif header");
    return c;
}

std::size_t block_size(const tzif_counts& c, int time_bytes) {
    return static_cast<std::size_t>(c.time * time_bytes + c.time + c.type * 6 + c.chars + c.leap * (time_bytes + 4) +
                                    c.isstd + c.isut);
}

}  // namespace

std::int64_t days_from_civil(int y, unsigned m, unsigned d) noexcept {
    y -= m <= 2 ? 1 : 0;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

civil_date civil_from_days(std::int64_t z) noexcept {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    return {static_cast<int>(y + (m <= 2 ? 1 : 0)), m, d};
}

unsigned weekday_from_days(std::int64_t z) noexcept {
    return static_cast<unsigned>(z >= -4 ? (z + 4) % 7 : (z + 5) % 7 + 6);
}

unsigned days_in_month(int y, unsigned m) noexcept {
    static constexpr unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
    return days[(m - 1) % 12];
}

time_zone time_zone::utc() {
    time_zone z;
    z.name_ = "UTC";
    return z;
}

time_zone time_zone::load(std::string_view name) {
    std::string n(name);
    if (n.empty() || n.front() == '/' || n.find("..") != std::string::npos || n.size() > 128)
        throw bad_zone(n, "is not a valid zone name");
    if (n == "UTC" || n == "Etc/UTC" || n == "Z") return utc();
    const char* env = std::getenv("ORBITMESH_ZONEINFO");
    std::string dir = env != nullptr && *env != '\0' ? env : "/usr/share/zoneinfo";
    std::ifstream in(dir + "/" + n, std::ios::binary);
    if (!in) throw missing_zone(n, dir);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return from_tzif(bytes, n);
}

time_zone time_zone::from_tzif(std::string_view bytes, std::string name) {
    be_reader r{bytes};
    int version = 1;
    auto c = read_header(r, name, version);
    int time_bytes = 4;
    if (version >= 2) {  // skip the v1 block: the v2 one has 64-bit times
        if (!r.has(block_size(c, 4))) throw bad_zone(name, "is a truncated TZif file");
        r.at += block_size(c, 4);
        c = read_header(r, name, version);
        time_bytes = 8;
    }
    if (!r.has(block_size(c, time_bytes))) throw bad_zone(name, "is a truncated TZif file");
    std::vector<std::int64_t> times(static_cast<std::size_t>(c.time));
    for (auto& t : times) t = r.get(time_bytes);
    std::vector<int> index(static_cast<std::size_t>(c.time));
    for (auto& i : index) i = static_cast<int>(r.get(1));
    std::vector<int> offsets(static_cast<std::size_t>(c.type));
    for (auto& o : offsets) {
        o = static_cast<int>(r.get(4));
        r.at += 2;  // isdst, designation index: not needed to find offsets
    }
    r.at += static_cast<std::size_t>(c.chars + c.leap * (time_bytes + 4) + c.isstd + c.isut);
    time_zone z;
    z.name_ = std::move(name);
    z.initial_offset_ = offsets[0];
    for (std::size_t i = 0; i < times.size(); ++i) {
        if (index[i] >= c.type) throw bad_zone(z.name_, "has a damaged transition table");
        if (!z.at_.empty() && times[i] <= z.at_.back()) continue;
        z.at_.push_back(times[i]);
        z.offset_.push_back(offsets[static_cast<std::size_t>(index[i])]);
    }
    std::string_view footer = version >= 2 && r.at < bytes.size() ? bytes.substr(r.at) : std::string_view{};
    if (footer.size() >= 2 && footer.front() == '\n') {
        footer.remove_prefix(1);
        footer = footer.substr(0, footer.find('\n'));
        if (auto rule = parse_tz_rule(footer)) {
            std::int64_t from = z.at_.empty() ? -4'000'000'000LL : z.at_.back();
            if (z.at_.empty()) z.initial_offset_ = rule->std_offset;
            int current = z.at_.empty() ? z.initial_offset_ : z.offset_.back();
            for (int y = civil_from_days(std::max<std::int64_t>(from, 0) / 86400).year; y <= last_year; ++y)
                for (auto [t, off] : rule->transitions_in(y))
                    if (t > from && off != current) {
                        z.at_.push_back(t);
                        z.offset_.push_back(off);
                        current = off;
                        from = t;
                    }
        }
    }
    return z;
}

time_zone time_zone::from_posix(std::string_view text, std::string name) {
    auto rule = parse_tz_rule(text);
    if (!rule) throw bad_zone(name, "has a POSIX rule that does not parse: " + std::string(text));
    time_zone z;
    z.name_ = std::move(name);
    z.initial_offset_ = rule->std_offset;
    int current = z.initial_offset_;
    for (int y = 1970; y <= last_year; ++y)
        for (auto [t, off] : rule->transitions_in(y))
            if (off != current) {
                z.at_.push_back(t);
                z.offset_.push_back(off);
                current = off;
            }
    return z;
}

int time_zone::offset_at(std::int64_t utc_s) const noexcept {
    auto it = std::upper_bound(at_.begin(), at_.end(), utc_s);
    if (it == at_.begin()) return initial_offset_;
    return offset_[static_cast<std::size_t>(it - at_.begin() - 1)];
}

std::optional<std::int64_t> time_zone::next_transition(std::int64_t utc_s) const noexcept {
    auto it = std::upper_bound(at_.begin(), at_.end(), utc_s);
    if (it == at_.end()) return std::nullopt;
    return *it;
}

std::vector<std::int64_t> time_zone::from_local(std::int64_t local_s) const {
    // An offset in force within a day either side is the only one that can produce this wall time.
    std::vector<std::int64_t> out;
    for (std::int64_t probe : {local_s - 86400, local_s, local_s + 86400}) {
        const int off = offset_at(probe - offset_at(probe));
        const std::int64_t u = local_s - off;
        if (offset_at(u) == off && std::find(out.begin(), out.end(), u) == out.end()) out.push_back(u);
    }
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace orbitmesh::core
