#pragma once
#include <cstdint>
#include <cstring>
#include <functional>
#include <string_view>
#include <vector>

namespace orbitmesh::engine::replay {

/// Open-addressing index from an id (a view the caller keeps alive, e.g. in an arena) to a
/// position in a vector: no node per entry, and each entry keeps its id's hash so a probe
/// compares ids only on a real match — a replay looks up one job per event, hundreds of
/// thousands of jobs. Not thread-safe for writing; find() may run on several threads at once.
class slot_index {
public:
    static constexpr std::uint32_t none = 0xffffffffu;

    /// The position stored for `id`, or `none`. `key_of(pos)` gives the id stored at a position.
    template <typename KeyOf>
    std::uint32_t find(std::string_view id, const KeyOf& key_of) const {
        if (entries_.empty()) return none;
        const std::uint64_t h = hash(id);
        for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
            const entry& e = entries_[i];
            if (e.pos == none) return none;
            if (e.hash == h && key_of(e.pos) == id) return e.pos;
        }
    }

    /// Starts loading the entry where find(id) begins: called early, its cache miss overlaps
    /// other work instead of stalling find().
    void prefetch(std::string_view id) const noexcept {
        if (!entries_.empty()) __builtin_prefetch(&entries_[hash(id) & mask_]);
    }

    /// The position in the first entry whose hash is `id`'s, without comparing ids (which would
    /// wait for the id's memory): a guess to prefetch what find() will read next. `none` if none.
    std::uint32_t candidate(std::string_view id) const noexcept {
        if (entries_.empty()) return none;
        const std::uint64_t h = hash(id);
        for (std::size_t i = h & mask_, n = 0; n < entries_.size(); i = (i + 1) & mask_, ++n) {
            if (entries_[i].pos == none) return none;
            if (entries_[i].hash == h) return entries_[i].pos;
        }
        return none;
    }

    /// Stores `pos` for `id` (which must not be in the index yet).
    void insert(std::string_view id, std::uint32_t pos) {
        if ((size_ + 1) * 2 > entries_.size()) grow();
        place(hash(id), pos);
        ++size_;
    }

    std::size_t size() const { return size_; }
    /// Room for `n` ids without growing.
    void reserve(std::size_t n) {
        std::size_t want = 1024;
        while (want < n * 2) want *= 2;
        if (want <= entries_.size()) return;
        std::vector<entry> old;
        old.swap(entries_);
        entries_.assign(want, entry{});
        mask_ = want - 1;
        for (const auto& e : old)
            if (e.pos != none) place(e.hash, e.pos);
    }

    /// Ids are UUIDv7 text: their last 16 characters are random, so two words of them mixed
    /// make a good hash at a fraction of the cost of hashing all 36 bytes.
    static std::uint64_t hash(std::string_view id) {
        if (id.size() < 16) return std::hash<std::string_view>{}(id) | 1;
        std::uint64_t a, b;
        std::memcpy(&a, id.data() + id.size() - 16, 8);
        std::memcpy(&b, id.data() + id.size() - 8, 8);
        std::uint64_t x = (a ^ (b * 0x9e3779b97f4a7c15ull)) + id.size();
        x ^= x >> 31;
        x *= 0xbf58476d1ce4e5b9ull;
        x ^= x >> 29;
        return x;
    }

private:
    struct entry {
        std::uint64_t hash = 0;
        std::uint32_t pos = none;
    };

    void place(std::uint64_t h, std::uint32_t pos) {
        std::size_t i = h & mask_;
        while (entries_[i].pos != none) i = (i + 1) & mask_;
        entries_[i] = {h, pos};
    }

    void grow() {
        std::vector<entry> old;
        old.swap(entries_);
        entries_.assign(old.empty() ? 1024 : old.size() * 2, entry{});
        mask_ = entries_.size() - 1;
        for (const auto& e : old)
            if (e.pos != none) place(e.hash, e.pos);
    }

    std::vector<entry> entries_;
    std::size_t mask_ = 0;
    std::size_t size_ = 0;
};

}  // namespace orbitmesh::engine::replay
