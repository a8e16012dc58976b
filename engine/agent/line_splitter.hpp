#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace orbitmesh::engine::agent {

/// Cuts a byte stream into lines without their '\n'. A line longer than `max_line` is emitted in
/// pieces so one endless line cannot grow memory. Not thread-safe.
class line_splitter {
public:
    explicit line_splitter(std::size_t max_line = 64 * 1024) : max_line_(max_line) {}

    /// Feeds bytes; calls `emit(std::string)` for every completed line.
    template <class Emit>
    void feed(std::string_view bytes, Emit&& emit) {
        while (!bytes.empty()) {
            auto nl = bytes.find('\n');
            auto take = nl == std::string_view::npos ? bytes.size() : nl;
            partial_.append(bytes.substr(0, take));
            bytes.remove_prefix(nl == std::string_view::npos ? take : take + 1);
            if (nl != std::string_view::npos) {
                emit(std::move(partial_));
                partial_.clear();
            }
            while (partial_.size() >= max_line_) {
                emit(partial_.substr(0, max_line_));
                partial_.erase(0, max_line_);
            }
        }
    }

    /// Emits what is left after the last '\n' (at end of stream), if anything.
    template <class Emit>
    void flush(Emit&& emit) {
        if (partial_.empty()) return;
        emit(std::move(partial_));
        partial_.clear();
    }

private:
    std::size_t max_line_;
    std::string partial_;
};

}  // namespace orbitmesh::engine::agent
