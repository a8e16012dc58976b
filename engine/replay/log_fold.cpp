#include "engine/replay/log_fold.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <thread>
#include <vector>

#include "store/event_scan.hpp"

namespace orbitmesh::engine::replay {

namespace {

constexpr int ranges_per_thread = 3;

struct seq_range {
    std::int64_t after, last;
};

/// `parts` ranges covering (after, last], about equal in events (seq is dense: rowids).
void split(std::int64_t after, std::int64_t last, int parts, std::int64_t min_range, std::vector<seq_range>& out) {
    if (last <= after) return;
    const std::int64_t n = last - after;
    parts = static_cast<int>(std::clamp<std::int64_t>(n / std::max<std::int64_t>(1, min_range), 1, parts));
    for (int i = 0; i < parts; ++i)
        out.push_back({after + n * i / parts, i + 1 == parts ? last : after + n * (i + 1) / parts});
}

int thread_count(int asked) {
    if (asked > 0) return asked;
    const int cores = static_cast<int>(std::thread::hardware_concurrency());
    return std::clamp(cores, 1, 4);
}

}  // namespace

log_state fold_log(const std::filesystem::path& file, const fold_options& opts) {
    store::event_scan first(file);  // opens (and checks) the store before any thread starts
    const auto bounds = first.bounds();
    const std::int64_t last = opts.until > 0 ? std::min(opts.until, bounds.last_seq) : bounds.last_seq;
    const int threads = thread_count(opts.threads);
    const bool pause = opts.at_pause && opts.pause_at > 0 && opts.pause_at < last;
    // Three ranges per thread, taken in turn: a range of submits costs several times one of
    // finishes, and a thread done early takes the next range instead of waiting.
    const int parts = threads > 1 ? threads * ranges_per_thread : 1;
    std::vector<seq_range> ranges;
    split(0, pause ? opts.pause_at : last, parts, opts.min_range, ranges);
    const std::size_t pause_after = ranges.size();  // merged up to here: the state at pause_at
    if (pause) split(opts.pause_at, last, parts, opts.min_range, ranges);

    if (opts.chain != nullptr) {
        std::vector<std::pair<std::int64_t, std::int64_t>> bounds_read;
        for (const auto& r : ranges) bounds_read.emplace_back(r.after, r.last);
        opts.chain->prepare(first.chain(), bounds_read);  // read after bounds(): it covers them
    }
    std::vector<log_state> states;
    for (std::size_t i = 0; i < ranges.size(); ++i) {
        states.emplace_back(i > 0, static_cast<std::size_t>(threads));  // deferred jobs merge on `threads` threads
        // The first range's state takes in all the others when they merge: room for all of it
        // now, so merging never moves the slots it already has.
        states.back().reserve(static_cast<std::size_t>(i == 0 ? last : ranges[i].last - ranges[i].after));
    }
    std::vector<std::exception_ptr> errors(ranges.size());
    std::atomic<std::size_t> next{0};
    auto work = [&](store::event_scan& scan) {
        for (std::size_t i = next++; i < ranges.size(); i = next++) {
            try {
                if (opts.chain == nullptr)
                    scan.range(ranges[i].after, ranges[i].last, [&s = states[i]](const core::event_view& e) { s.fold(e); });
                else
                    scan.range(ranges[i].after, ranges[i].last, [&s = states[i], &scan, c = opts.chain, i](const core::event_view& e) {
                        // Both tables' entries, then both records they point at, load side by
                        // side: two cache misses at a time instead of one after the other.
                        c->prefetch(i, e.stream);
                        s.prefetch(e);
                        c->prefetch_head(i, e.stream);
                        s.prefetch_slot(e);
                        s.fold(e);
                        c->add(i, e, scan.current_hash(), scan.current_stored_data());
                    });
            } catch (...) {
                errors[i] = std::current_exception();
            }
        }
    };
    std::vector<std::thread> pool;
    const auto helpers = std::min<std::size_t>(static_cast<std::size_t>(threads), ranges.size());
    std::vector<std::exception_ptr> open_errors(helpers);
    for (std::size_t t = 1; t < helpers; ++t)
        pool.emplace_back([&, t] {
            try {
                store::event_scan scan(file);
                work(scan);
            } catch (...) {
                open_errors[t] = std::current_exception();  // the other threads take its ranges
            }
        });
    work(first);
    for (auto& t : pool) t.join();
    for (std::size_t i = 0; i < ranges.size(); ++i) {
        if (errors[i]) std::rethrow_exception(errors[i]);
    }
    for (const auto& e : open_errors)
        if (e) std::rethrow_exception(e);

    if (states.empty()) return log_state{};
    log_state all = std::move(states.front());
    for (std::size_t i = 1; i < states.size(); ++i) {
        if (i == pause_after && pause) opts.at_pause(all);
        all.merge(std::move(states[i]));
    }
    return all;
}

}  // namespace orbitmesh::engine::replay
