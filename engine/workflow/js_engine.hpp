#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/json.hpp"

namespace orbitmesh::engine {

/// Bounds of one script or one batch of expressions.
struct js_limits {
    std::int64_t timeout_ms = 10'000;    // wall clock of the user code; node's start-up is extra
    int memory_mb = 128;                 // V8 heap; the address space is capped a little above it
    std::size_t max_output = 1u << 20;   // bytes of the answer (value and logs as JSON)
    std::size_t max_log_bytes = 64u << 10;  // console output kept; later lines are dropped
};

/// What a script or an expression gave: a value, or an error of one line. `line` is the line of
/// the script (1 = its first) where it failed, 0 when unknown.
struct js_outcome {
    bool ok = false;
    core::json value;
    std::string error;
    int line = 0;
    std::vector<std::string> logs;  // console.log & co., in order
};

/// The JavaScript engine (docs/javascript.md): Node.js run as a child process per call, with the
/// user's code in a vm context that has no require/process, under rlimits, a wall-clock kill,
/// no inherited fds and node's permission model when the node found has one. Thread-safe: every
/// call is its own process. Calls block; run them on worker threads.
class js_engine {
public:
    /// Finds node: `configured` when given (an absolute path, or a name looked up in PATH), else
    /// $ORBITMESH_NODE, else `node` then `nodejs` in PATH. Cheap: the version is probed on first use.
    static std::shared_ptr<js_engine> locate(const std::string& configured = {});

    bool available() const noexcept { return !path_.empty(); }
    /// "node v20.20.2 (/usr/bin/node, permission model on)" or why none is usable.
    std::string describe() const;
    /// Throws core::error{unavailable} with how to install one when there is no engine.
    void require_available(const std::string& what) const;

    /// Runs `code` as the body of `function (context) { … }` and gives its return value.
    js_outcome run_script(const std::string& code, const core::json& context, const js_limits& limits,
                          const std::atomic<bool>* cancel = nullptr) const;
    /// Evaluates each expression with the context's keys as variables (and `context` itself);
    /// one process for the batch, the time limit shared by all.
    std::vector<js_outcome> evaluate(const std::vector<std::string>& exprs, const core::json& context,
                                     const js_limits& limits, const std::atomic<bool>* cancel = nullptr) const;

    /// Compiles without running: a syntax error (with its line) per item, ok for the others.
    /// Items are scripts (`is_script`) or expressions.
    std::vector<js_outcome> check_syntax(const std::vector<std::pair<bool, std::string>>& items, const js_limits& limits) const;

    explicit js_engine(std::string path, std::string missing) : path_(std::move(path)), missing_(std::move(missing)) {}

private:
    struct probe {
        std::string version;     // "v20.20.2"
        std::string permission;  // the flag, or "" when this node has no permission model
    };
    const probe& probed() const;
    core::json call(const core::json& request, const js_limits& limits, const std::atomic<bool>* cancel,
                    std::string& failure) const;

    std::string path_;
    std::string missing_;
    mutable std::once_flag probe_once_;
    mutable probe probe_;
};

}  // namespace orbitmesh::engine
