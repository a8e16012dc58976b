#pragma once
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/job_key.hpp"
#include "core/json.hpp"

namespace orbitmesh::engine::agent {

/// The `output` and `progress` messages of attempts whose result the hub has not acknowledged
/// yet. The protocol has no ack for output, so after a reconnect everything kept here is sent
/// again before the results (the hub drops lines it already has by their seq), and a finished
/// attempt's lines are stored in the outbox with its result, so a restart keeps them too.
/// Bounded: at most max_lines output lines and max_bytes of them across the agent; past that the
/// attempt holding the most gives up its oldest lines. Progress keeps only the latest. Lives
/// on the agent's io thread; not thread-safe.
class output_buffer {
public:
    static constexpr std::size_t max_lines = 10'000;
    static constexpr std::size_t max_bytes = 8u << 20;

    /// Keeps a copy of an `output` or `progress` message (other types are ignored).
    void add(const core::json& m);
    /// The messages kept for an attempt, oldest first, progress last.
    std::vector<core::json> messages(const std::string& job_id, int attempt) const;
    /// Puts back what the outbox held for an attempt (at start).
    void restore(const std::vector<core::json>& messages);
    /// The hub has the attempt's result: its output is no longer needed.
    void drop(const std::string& job_id, int attempt);
    /// Calls fn(job, attempt, messages) for every attempt kept, in (job, attempt) order.
    void for_each(const std::function<void(const std::string&, int, const std::vector<core::json>&)>& fn) const;

    std::size_t lines() const { return lines_; }
    std::size_t bytes() const { return bytes_; }

private:
    struct kept {
        std::deque<core::json> lines;
        core::json progress;  // null when none
        std::size_t bytes = 0;
    };
    static std::size_t size_of(const core::json& m);
    void make_room(kept& k);

    std::map<core::job_key, kept, core::job_key_less> by_attempt_;
    std::size_t lines_ = 0;
    std::size_t bytes_ = 0;
};

}  // namespace orbitmesh::engine::agent
