#pragma once
#include <cstddef>
#include <cstring>
#include <memory>
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
    std::size_t bytes() const { return blocks_.size() * block_size; }

private:
    static constexpr std::size_t block_size = 1u << 20;

    const void* copy(const void* src, std::size_t n) {
        if (n > left_) {
            const std::size_t size = n > block_size ? n : block_size;
            blocks_.push_back(std::make_unique<char[]>(size));
            next_ = blocks_.back().get();
            left_ = size;
        }
        char* at = next_;
        std::memcpy(at, src, n);
        next_ += n;
        left_ -= n;
        return at;
    }

    std::vector<std::unique_ptr<char[]>> blocks_;
    char* next_ = nullptr;
    std::size_t left_ = 0;
};

}  // namespace orbitmesh::engine::replay
