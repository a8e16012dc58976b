#include "engine/replay/chain_check.hpp"

#include <algorithm>
#include <cstring>
#include <exception>
#include <functional>
#include <string_view>
#include <thread>
#include <utility>

#include "engine/replay/arena.hpp"
#include "engine/replay/slot_index.hpp"

#include "store/event_hash.hpp"

namespace orbitmesh::engine::replay {

namespace {

constexpr std::size_t none = static_cast<std::size_t>(-1);

using store::chain_hash;

/// An event whose previous one (same stream) lies in an earlier range: checked in finish().
/// Its fields live in the cursor's arena (a log of bursts has one per crossing stream and
/// range: 226,000 of 1M events in six ranges).
struct border_event {
    std::int64_t seq = 0, version = 0, time_ms = 0;
    std::string_view stream, type;
    std::span<const std::uint8_t> data;
    chain_hash stored{};
};

chain_hash to_hash(std::span<const std::uint8_t> bytes) {
    chain_hash h = store::zero_hash;
    if (bytes.size() == h.size()) std::memcpy(h.data(), bytes.data(), h.size());
    return h;
}

std::string event_name(std::int64_t seq, std::string_view stream, std::int64_t version) {
    return "event " + std::to_string(seq) + " (" + std::string(stream) + " v" + std::to_string(version) + ")";
}

std::string checkpoint_name(const store::chain_checkpoint& c) {
    return "log_chain checkpoint at seq " + std::to_string(c.last_seq) + " (events " + std::to_string(c.first_seq) + ".." +
           std::to_string(c.last_seq) + ")";
}

}  // namespace

/// The newest stored hash of each stream a range has seen: one open-addressing probe per event,
/// no node or string allocated per stream. A name that fits is kept in its head, so a lookup
/// that found the head compares the name there instead of at another random place (an arena).
class head_table {
public:
    struct head {
        std::int64_t version = 0;
        chain_hash hash{};
        std::uint32_t size = 0;
        const char* far = nullptr;  // the name when it does not fit in `near`
        char near[44];              // job, run and agent streams: 40 to 42 characters
        std::string_view stream() const { return {size <= sizeof near ? near : far, size}; }
    };

    void reserve(std::size_t streams) {
        heads_.reserve(streams);
        index_.reserve(streams);
    }
    void prefetch(std::string_view stream) const noexcept { index_.prefetch(stream); }
    void prefetch_head(std::string_view stream) const noexcept {
        const auto i = index_.candidate(stream);
        if (i == slot_index::none) return;
        const auto* p = reinterpret_cast<const char*>(&heads_[i]);
        __builtin_prefetch(p);
        __builtin_prefetch(p + 64);
    }
    head* find(std::string_view stream) {
        const auto i = index_.find(stream, [this](std::uint32_t k) { return heads_[k].stream(); });
        return i == slot_index::none ? nullptr : &heads_[i];
    }
    const head* find(std::string_view stream) const { return const_cast<head_table*>(this)->find(stream); }
    /// Records `h` as the stream's newest hash; `at` is what find() returned for it.
    void set(head* at, std::string_view stream, std::int64_t version, const chain_hash& h) {
        if (at == nullptr) {
            head& fresh = heads_.emplace_back();
            fresh.version = version;
            fresh.hash = h;
            fresh.size = static_cast<std::uint32_t>(stream.size());
            if (stream.size() <= sizeof fresh.near) std::memcpy(fresh.near, stream.data(), stream.size());
            else fresh.far = names_.keep(stream).data();
            index_.insert(stream, static_cast<std::uint32_t>(heads_.size() - 1));
            return;
        }
        at->version = version;
        at->hash = h;
    }

private:
    std::vector<head> heads_;
    slot_index index_;
    arena names_;
};

struct chain_check::cursor {
    cursor(const store::log_chain& c, std::int64_t after_seq, std::int64_t last_seq) : chain(c), after(after_seq) {
        heads.reserve(static_cast<std::size_t>(std::max<std::int64_t>(0, last_seq - after_seq) / 4 + 16));
        const auto& cps = chain.checkpoints;
        k = static_cast<std::size_t>(std::lower_bound(cps.begin(), cps.end(), after + 1, [](const auto& cp, std::int64_t s) {
                                         return cp.last_seq < s;
                                     }) - cps.begin());
    }

    const store::log_chain& chain;
    std::int64_t after;
    store::chain_hasher events, checkpoint;
    head_table heads;
    std::vector<border_event> borders;
    arena kept;  // the borders' fields
    std::vector<chain_mismatch> found;
    std::int64_t hashed = 0;
    std::size_t k = 0;             // the checkpoint the next covered event should belong to
    std::size_t open = none;       // the checkpoint being summed in `checkpoint`
    bool began_any = false;        // a checkpoint began in this range
    std::size_t head_cp = none;    // the checkpoint begun before this range that its first events end
    std::vector<chain_hash> head;  // their hashes, for finish() to add to that checkpoint
    std::size_t uncovered = 0;     // chained events no checkpoint covers
    std::int64_t first_uncovered = 0;

    void add(const core::event_view& e, std::span<const std::uint8_t> hash, std::span<const std::uint8_t> stored_data) {
        auto* prior = heads.find(e.stream);
        if (e.seq < chain.start_seq) {
            // Before the chain: the writer chained the stream's next event over zeros.
            heads.set(prior, e.stream, e.version, store::zero_hash);
            return;
        }
        ++hashed;
        const bool has_hash = hash.size() == store::zero_hash.size();
        const chain_hash stored = to_hash(hash);
        if (!has_hash) {
            found.push_back({e.seq, event_name(e.seq, e.stream, e.version), "a 32-byte hash", hash.empty() ? "none" : "malformed"});
        } else if (e.version <= 1) {
            compare(e, stored_data, store::zero_hash, stored);
        } else if (prior != nullptr && prior->version == e.version - 1) {
            compare(e, stored_data, prior->hash, stored);
        } else {
            borders.push_back({e.seq, e.version, e.time_ms, kept.keep(e.stream), kept.keep(e.type), kept.keep(stored_data), stored});
        }
        heads.set(prior, e.stream, e.version, stored);
        sum(e.seq, stored);
    }

    void compare(const core::event_view& e, std::span<const std::uint8_t> data, const chain_hash& prev, const chain_hash& stored) {
        const auto expected = events.event(prev, e.seq, e.stream, e.version, e.type, e.time_ms, data);
        if (expected != stored)
            found.push_back({e.seq, event_name(e.seq, e.stream, e.version), store::to_hex(expected), store::to_hex(stored)});
    }

    // Adds the event's hash to the checkpoint that covers it.
    void sum(std::int64_t seq, const chain_hash& h) {
        const auto& cps = chain.checkpoints;
        while (k < cps.size() && cps[k].last_seq < seq) ++k;
        if (k == cps.size() || cps[k].first_seq > seq) {
            if (uncovered++ == 0) first_uncovered = seq;
            return;
        }
        if (open != k) {
            close_open();
            if (cps[k].first_seq <= after) {  // begun in an earlier range
                head_cp = k;
                head.push_back(h);
                return;
            }
            open = k;
            began_any = true;
            checkpoint.begin_checkpoint(k > 0 ? cps[k - 1].hash : store::zero_hash, cps[k].first_seq, cps[k].last_seq);
        }
        checkpoint.add(h);
    }

    // A checkpoint ends when an event of a later one arrives, or (complete) at the end of the range.
    void close_open() {
        if (open == none) return;
        compare_checkpoint(checkpoint, chain.checkpoints[open], found);
        open = none;
    }

    static void compare_checkpoint(store::chain_hasher& h, const store::chain_checkpoint& cp, std::vector<chain_mismatch>& out) {
        const auto expected = h.finish();
        if (cp.malformed || expected != cp.hash)
            out.push_back({cp.last_seq, checkpoint_name(cp), store::to_hex(expected), cp.malformed ? "malformed" : store::to_hex(cp.hash)});
    }
};

chain_check::chain_check() = default;
chain_check::~chain_check() = default;

void chain_check::prepare(store::log_chain chain, const std::vector<std::pair<std::int64_t, std::int64_t>>& ranges) {
    chain_ = std::move(chain);
    cursors_.clear();
    for (const auto& [after, last] : ranges) cursors_.push_back(std::make_unique<cursor>(chain_, after, last));
}

void chain_check::prefetch(std::size_t i, std::string_view stream) const noexcept { cursors_[i]->heads.prefetch(stream); }
void chain_check::prefetch_head(std::size_t i, std::string_view stream) const noexcept { cursors_[i]->heads.prefetch_head(stream); }

void chain_check::add(std::size_t i, const core::event_view& e, std::span<const std::uint8_t> hash,
                      std::span<const std::uint8_t> stored_data) {
    cursors_[i]->add(e, hash, stored_data);
}

namespace {

// The checkpoints must follow one another without a gap from the chain's start.
void check_links(const store::log_chain& chain, std::vector<chain_mismatch>& out) {
    std::int64_t expected_first = chain.start_seq;
    for (const auto& cp : chain.checkpoints) {
        if (cp.first_seq != expected_first || cp.last_seq < cp.first_seq)
            out.push_back({cp.last_seq, checkpoint_name(cp), "events from " + std::to_string(expected_first),
                           "events from " + std::to_string(cp.first_seq) + " (a checkpoint is missing or was edited)"});
        expected_first = cp.last_seq + 1;
    }
}

}  // namespace

std::optional<chain_hash> chain_check::previous_hash(std::size_t range, std::string_view stream, std::int64_t version) const {
    // The stream's newest event in the nearest earlier range that has it; when a log is read in
    // seq ranges, most border events find their predecessor there without a query.
    for (std::size_t j = range; j-- > 0;) {
        const auto* head = std::as_const(cursors_[j]->heads).find(stream);
        if (head == nullptr) continue;
        if (head->version == version - 1) return head->hash;
        break;  // a gap in the stream: the store says what its previous event holds
    }
    return std::nullopt;
}

namespace {

struct border_task {
    std::size_t range;
    const border_event* event;
};

struct border_findings {
    std::vector<chain_mismatch> found;
    std::vector<border_task> ask_store;  // previous event not in any range's heads
    std::exception_ptr error;
};

void compare_border(store::chain_hasher& hasher, const border_event& b, const chain_hash& prev, std::vector<chain_mismatch>& out) {
    const auto expected = hasher.event(prev, b.seq, b.stream, b.version, b.type, b.time_ms, b.data);
    if (expected != b.stored) out.push_back({b.seq, event_name(b.seq, b.stream, b.version), store::to_hex(expected), store::to_hex(b.stored)});
}

}  // namespace

// Every border event against its predecessor's stored hash: the heads are read-only by now, so
// `threads` threads take a share each; the few that need the store are asked here, after.
void chain_check::check_borders(store::event_scan& scan, int threads, std::vector<chain_mismatch>& out) const {
    std::vector<border_task> tasks;
    for (std::size_t i = 0; i < cursors_.size(); ++i)
        for (const auto& b : cursors_[i]->borders) tasks.push_back({i, &b});
    const std::size_t n = tasks.empty() ? 0 : std::clamp<std::size_t>(static_cast<std::size_t>(threads), 1, 4);
    std::vector<border_findings> parts(n);
    auto run = [&](std::size_t t) {
        try {
            store::chain_hasher hasher;
            for (std::size_t k = tasks.size() * t / n; k < tasks.size() * (t + 1) / n; ++k) {
                const auto prev = previous_hash(tasks[k].range, tasks[k].event->stream, tasks[k].event->version);
                if (prev) compare_border(hasher, *tasks[k].event, *prev, parts[t].found);
                else parts[t].ask_store.push_back(tasks[k]);
            }
        } catch (...) {
            parts[t].error = std::current_exception();
        }
    };
    {
        std::vector<std::thread> helpers;
        for (std::size_t t = 1; t < n; ++t) helpers.emplace_back(run, t);
        if (n > 0) run(0);
        for (auto& h : helpers) h.join();
    }
    store::chain_hasher hasher;
    for (auto& p : parts) {
        if (p.error) std::rethrow_exception(p.error);
        for (const auto& task : p.ask_store) {
            const auto& b = *task.event;
            compare_border(hasher, b, scan.stored_hash(b.stream, b.version - 1).value_or(store::zero_hash), out);
        }
        out.insert(out.end(), std::make_move_iterator(p.found.begin()), std::make_move_iterator(p.found.end()));
    }
}

chain_result chain_check::finish(store::event_scan& scan, std::size_t max_mismatches, int threads) {
    chain_result r;
    r.present = chain_.start_seq > 0;
    if (!r.present) return r;
    r.start_seq = chain_.start_seq;
    std::vector<chain_mismatch> all;
    check_links(chain_, all);
    const auto& cps = chain_.checkpoints;
    // Carry the checkpoint still open at the end of one range into the next ones.
    cursor* carry = nullptr;
    std::size_t uncovered = 0;
    std::int64_t first_uncovered = 0;
    store::chain_hasher hasher;
    for (auto& c : cursors_) {
        if (c->head_cp != none) {
            if (carry != nullptr && carry->open == c->head_cp) {
                for (const auto& h : c->head) carry->checkpoint.add(h);
            } else {
                if (carry != nullptr) carry->close_open();
                carry = nullptr;
                hasher.begin_checkpoint(store::zero_hash, 0, 0);  // its first events are gone: cannot match
                for (const auto& h : c->head) hasher.add(h);
                cursor::compare_checkpoint(hasher, cps[c->head_cp], all);
            }
        }
        // A range that began a checkpoint of its own (or had no head) ended the carried one.
        if (carry != nullptr && (c->began_any || c->head_cp == none)) {
            carry->close_open();
            carry = nullptr;
        }
        if (c->open != none) carry = c.get();
        if (c->uncovered > 0 && uncovered == 0) first_uncovered = c->first_uncovered;
        uncovered += c->uncovered;
        r.hashed += c->hashed;
    }
    if (carry != nullptr) carry->close_open();
    for (auto& c : cursors_)
        for (auto& m : c->found) all.push_back(std::move(m));
    check_borders(scan, threads, all);  // after the rest: a checkpoint ending at the same seq comes first
    if (uncovered > 0)
        all.push_back({first_uncovered, "event " + std::to_string(first_uncovered),
                       "covered by a log_chain checkpoint",
                       std::to_string(uncovered) + " event(s) from here on are in no checkpoint (checkpoints removed?)"});
    std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.seq < b.seq; });
    r.mismatch_count = all.size();
    if (all.size() > max_mismatches) all.resize(max_mismatches);
    r.mismatches = std::move(all);
    r.checkpoints = cps.size();
    if (!cps.empty()) r.head = cps.back();
    return r;
}

}  // namespace orbitmesh::engine::replay
