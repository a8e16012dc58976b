#pragma once
#include <array>
#include <cstddef>
#include <cstring>
#include <memory>
#include <utility>
#include <span>
#include <string_view>
#include <vector>

namespace orbitmesh::engine::replay {

/// Append-only byte storage for a replay: copies of event fields live here, in 1 MiB blocks that
/// never move, so a fold over millions of events allocates once per block, not once per event.
/// Views it hands out stay valid as long as the arena. Not thread-safe: one per thread.
class arena {
public:
    std::string_view keep(std::string_view s) {
        if (s.empty()) return {};
        return {static_cast<const char*>(copy(s.data(), s.size())), s.size()};
    }
    std::span<const std::uint8_t> keep(std::span<const std::uint8_t> b) {
        if (b.empty()) return {};
        return {static_cast<const std::uint8_t*>(copy(b.data(), b.size())), b.size()};
    }
    /// keep() for values that repeat across many events (agent ids and names): one of the last
    /// few values kept this way is handed out again instead of being copied once more.
    std::string_view keep_shared(std::string_view s) {
        for (const auto& v : recent_)
            if (v == s && !v.empty()) return v;
        const auto kept = keep(s);
        recent_[recent_next_++ % recent_.size()] = kept;
        return kept;
    }
    std::size_t bytes() const { return bytes_; }

    arena() = default;
    arena(arena&& other) noexcept { *this = std::move(other); }
    arena& operator=(arena&& other) noexcept {
        std::swap(blocks_, other.blocks_);
        std::swap(next_, other.next_);
        std::swap(left_, other.left_);
        std::swap(bytes_, other.bytes_);
        std::swap(recent_, other.recent_);
        std::swap(recent_next_, other.recent_next_);
        return *this;
    }
    ~arena() {
        for (const auto& b : blocks_) unmap(b.first, b.second);
    }

private:
    // 2 MiB blocks, aligned: with transparent huge pages on ("madvise", Debian's default) a
    // block is one page fault instead of 512, which was a tenth of a replay's time.
    static constexpr std::size_t block_size = 2u << 20;
    static char* map(std::size_t size);
    static void unmap(char* p, std::size_t size) noexcept;

    const void* copy(const void* src, std::size_t n) {
        if (n > left_) {
            const std::size_t size = n > block_size ? (n + block_size - 1) / block_size * block_size : block_size;
            char* block = map(size);
            blocks_.emplace_back(block, size);
            next_ = block;
            left_ = size;
            bytes_ += size;
        }
        char* at = next_;
        std::memcpy(at, src, n);
        next_ += n;
        left_ -= n;
        return at;
    }

    std::vector<std::pair<char*, std::size_t>> blocks_;
    char* next_ = nullptr;
    std::size_t left_ = 0;
    std::size_t bytes_ = 0;
    std::array<std::string_view, 8> recent_{};
    std::size_t recent_next_ = 0;
};

}  // namespace orbitmesh::engine::replay
