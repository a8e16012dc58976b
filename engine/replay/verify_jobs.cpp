// replay --verify, the `jobs` table: every row against the job rebuilt from its events.
#include <algorithm>
#include <thread>

#include "core/error.hpp"
#include "core/job_text.hpp"
#include "engine/replay/verify_detail.hpp"
#include "store/event_scan.hpp"
#include "store/projection_scan.hpp"

namespace orbitmesh::engine::replay::detail {

namespace {

std::string job_name(std::string_view id) { return "job " + std::string(id); }

/// A row kept for a second look: it is behind its events.
struct lagging_row {
    std::string id, state, command, agent_id, idempotency_key, record;
    std::int64_t priority = 0, attempt = 0, created_ms = 0, updated_ms = 0, version = 0;

    explicit lagging_row(const store::job_row_view& r)
        : id(r.id), state(r.state), command(r.command), agent_id(r.agent_id), idempotency_key(r.idempotency_key),
          record(r.record), priority(r.priority), attempt(r.attempt), created_ms(r.created_ms), updated_ms(r.updated_ms),
          version(r.version) {}
    store::job_row_view view() const {
        return {id, state, command, agent_id, idempotency_key, record, priority, attempt, created_ms, updated_ms, version};
    }
};

/// Compares one row with the job as rebuilt at the row's version.
/// The first column that differs (compared without building strings: this runs for every row).
bool column_differs(const store::job_row_view& row, const job_slot& s, const std::string& who, findings& out) {
    auto text = [&](const char* name, std::string_view stored, std::string_view rebuilt) {
        if (stored == rebuilt) return false;
        out.add(who, name, std::string(stored), std::string(rebuilt));
        return true;
    };
    auto number = [&](const char* name, std::int64_t stored, std::int64_t rebuilt) {
        if (stored == rebuilt) return false;
        out.add(who, name, std::to_string(stored), std::to_string(rebuilt));
        return true;
    };
    return text("state", row.state, core::to_string(s.state)) || number("attempt", row.attempt, s.attempt) ||
           text("agent_id", row.agent_id, s.agent_id) || text("command", row.command, s.command) ||
           number("priority", row.priority, s.priority) ||
           text("idempotency_key", row.idempotency_key, s.idempotency_key) ||
           number("created", row.created_ms, s.created_ms) || number("updated", row.updated_ms, s.updated_ms);
}

bool columns_equal(const store::job_row_view& row, const job_slot& s) {
    return row.state == core::to_string(s.state) && row.attempt == s.attempt && row.agent_id == s.agent_id &&
           row.command == s.command && row.priority == s.priority && row.idempotency_key == s.idempotency_key &&
           row.created_ms == s.created_ms && row.updated_ms == s.updated_ms;
}

/// Compares one row with the job as rebuilt at the row's version.
void compare(const store::job_row_view& row, const job_slot& s, std::string& text, findings& out) {
    if (!columns_equal(row, s)) {
        column_differs(row, s, job_name(row.id), out);
        return;
    }
    record_text(s, text);
    if (text == row.record) return;
    const auto who = job_name(row.id);
    // Not byte-equal: compare field by field. Progress comes from `progress` messages, not events,
    // so a row may carry it where the events cannot.
    core::json stored;
    try {
        stored = core::json::parse(row.record);
    } catch (const core::json::exception&) {
        out.add(who, "record", "unreadable JSON", "a record");
        return;
    }
    const auto rebuilt = core::to_json(to_record(s));
    const auto field = first_difference(stored, rebuilt, {"progress"});
    if (field.empty()) return;
    out.add(who, "record." + field, shown(stored.value(field, core::json())), shown(rebuilt.value(field, core::json())));
}

struct range_check {
    const log_state& state;
    std::vector<char>& matched;
    findings out;
    std::vector<lagging_row> behind;
    std::string text;

    void row(const store::job_row_view& r) {
        ++out.rows;
        const job_slot* s = state.find_job(r.id);
        if (s == nullptr) {
            out.add(job_name(r.id), "row", "present", "no events for this job");
            return;
        }
        matched[static_cast<std::size_t>(s - state.jobs().data())] = 1;
        if (r.version < 0 || r.version == s->version) return compare(r, *s, text, out);
        if (r.version > s->version) return out.add(job_name(r.id), "version", std::to_string(r.version), std::to_string(s->version));
        behind.emplace_back(r);
    }
};

/// A row behind its job's events: it must equal the job as it was at the row's version, and
/// the events it misses must all be newer than the watermark.
void check_behind(store::event_scan& events, const lagging_row& row, std::int64_t watermark, findings& out) {
    job_slot s;
    arena mem;
    std::int64_t first_missing = 0;
    events.stream("job-" + row.id, INT64_MAX, [&](const core::event_view& e) {
        if (e.version <= row.version) {
            try {
                fold(s, e, mem);
            } catch (const core::error&) {
                // refused events are reported by the fold of the whole log
            }
        } else if (first_missing == 0) {
            first_missing = e.seq;
        }
    });
    std::string text;
    compare(row.view(), s, text, out);
    if (first_missing != 0 && first_missing <= watermark) {
        out.add(job_name(row.id), "version", std::to_string(row.version),
                "newer events up to the snapshot at seq " + std::to_string(watermark));
        return;
    }
    ++out.lagging;
}

}  // namespace

void check_jobs(const std::filesystem::path& file, const log_state& state, std::int64_t watermark, int threads,
                findings& out) {
    std::vector<char> matched(state.jobs().size(), 0);
    std::int64_t last = 0;
    {
        store::projection_scan rows(file);
        last = rows.job_rowid_max();
    }
    // Rowid ranges on up to two threads, each with its own connection; one range when small.
    const std::size_t n = threads > 1 && last > 20'000 ? 2 : 1;
    std::vector<range_check> parts;
    for (std::size_t i = 0; i < n; ++i) parts.push_back({state, matched, findings(out.max), {}, {}});
    std::vector<std::exception_ptr> errors(parts.size());
    auto run = [&](std::size_t i) {
        try {
            store::projection_scan rows(file);
            const auto from = last * static_cast<std::int64_t>(i) / static_cast<std::int64_t>(n);
            const auto to = i + 1 == n ? INT64_MAX : last * static_cast<std::int64_t>(i + 1) / static_cast<std::int64_t>(n);
            rows.jobs(from, to, [&p = parts[i]](const store::job_row_view& r) { p.row(r); });
        } catch (...) {
            errors[i] = std::current_exception();
        }
    };
    std::thread second;
    if (parts.size() > 1) second = std::thread(run, 1);
    run(0);
    if (second.joinable()) second.join();
    for (const auto& e : errors)
        if (e) std::rethrow_exception(e);
    store::event_scan events(file);
    for (auto& p : parts) {
        for (const auto& row : p.behind) check_behind(events, row, watermark, p.out);
        out.merge(std::move(p.out));
    }
    // Jobs with no row: fine when they began after the watermark (the hub writes a row later).
    const auto& jobs = state.jobs();
    for (std::size_t i = 0; i < jobs.size(); ++i) {
        if (matched[i]) continue;
        if (jobs[i].first_seq > watermark) {
            ++out.lagging;
            continue;
        }
        out.add(job_name(jobs[i].id), "row", "missing", std::string(core::to_string(jobs[i].state)));
    }
}

}  // namespace orbitmesh::engine::replay::detail
