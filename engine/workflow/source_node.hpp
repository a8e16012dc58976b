#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/json.hpp"
#include "core/workflow_step.hpp"

namespace orbitmesh::engine {

/// Bounds checked while reading a workflow file, before anything large is built (SPEC §12:
/// alias bombs and deep nesting get a clear error within bounded time and memory).
struct reader_limits {
    std::size_t max_bytes = 32 * 1024 * 1024;  // file size
    std::size_t max_depth = 256;               // nested maps and lists
    std::size_t max_nodes = 1'000'000;         // values in the tree, alias copies included
    std::size_t max_alias_nodes = 100'000;     // values created by expanding YAML aliases
};

/// A YAML or JSON value with the place it was written: the one tree both formats load into,
/// so the workflow builder reads them alike.
struct source_node {
    enum class kind : std::uint8_t { null, scalar, sequence, mapping };

    kind type = kind::null;
    bool quoted = false;       // a quoted scalar is always a string; a plain one is resolved
    std::string text;          // scalar text as written (escapes decoded)
    std::string key;           // when this is a mapping value: its key
    core::source_pos pos;      // where the value starts
    core::source_pos key_pos;  // where its key starts
    std::vector<source_node> children;  // sequence items, or mapping values in file order

    bool is_null() const noexcept { return type == kind::null; }
    bool is_scalar() const noexcept { return type == kind::scalar; }
    bool is_sequence() const noexcept { return type == kind::sequence; }
    bool is_mapping() const noexcept { return type == kind::mapping; }
    /// First mapping value with this key, or nullptr.
    const source_node* find(std::string_view k) const noexcept;
};

/// "a map", "a list", "a string", "a number", "a boolean", "null": for messages.
std::string describe(const source_node& n);
/// A scalar resolved as YAML 1.2's core schema does: null, true/false, integers (also 0x, 0o),
/// floats (.inf, .nan); quoted scalars stay strings.
core::json scalar_value(const source_node& n);
/// The whole subtree as JSON (for payloads and variables). Later duplicate keys win.
core::json to_json(const source_node& n);

/// A failure to read the file at all (syntax, limits). A core::error{invalid_input}.
class source_error : public core::error {
public:
    source_error(core::source_pos pos, const std::string& message, std::string hint = {})
        : core::error(core::error_kind::invalid_input, message), pos_(pos), hint_(std::move(hint)) {}
    core::source_pos pos() const noexcept { return pos_; }
    const std::string& hint() const noexcept { return hint_; }

private:
    core::source_pos pos_;
    std::string hint_;
};

/// Builds a source_node tree from a stream of events (open, key, value, close), enforcing
/// reader_limits as it goes. Used by the YAML and the JSON reader alike.
class tree_assembler {
public:
    explicit tree_assembler(const reader_limits& limits) : limits_(limits) {}

    void open(source_node::kind k, core::source_pos pos);
    /// True when the innermost open container is a mapping waiting for a key.
    bool wants_key() const noexcept;
    void key(std::string k, core::source_pos pos);
    /// Adds a finished value; `weight` is its number of nodes (alias copies weigh their size).
    /// Returns the value where it now lives (valid until the next call).
    source_node& value(source_node n, std::size_t weight = 1, bool from_alias = false);
    /// Closes the innermost container and returns it where it now lives.
    source_node& close();
    std::size_t depth() const noexcept { return stack_.size(); }
    std::size_t nodes() const noexcept { return nodes_; }
    /// The finished root, once every container is closed.
    std::optional<source_node> take() { return std::move(root_); }

private:
    struct frame {
        source_node node;
        bool has_key = false;
        std::string key;
        core::source_pos key_pos;
    };
    source_node& attach(source_node n);

    const reader_limits& limits_;
    std::vector<frame> stack_;
    std::optional<source_node> root_;
    std::size_t nodes_ = 0;
    std::size_t alias_nodes_ = 0;
};

/// Number of nodes in a subtree (for alias budgets).
std::size_t count_nodes(const source_node& n);

}  // namespace orbitmesh::engine
