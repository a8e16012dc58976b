#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/workflow_diagnostic.hpp"
#include "engine/workflow/source_node.hpp"

namespace orbitmesh::engine {

/// `"text"`: how messages show names and values the user wrote.
std::string in_quotes(std::string_view s);

/// Collects the diagnostics of one file while the builder walks it.
class diagnostics_sink {
public:
    explicit diagnostics_sink(std::string file) : file_(std::move(file)) {}

    void error(core::source_pos at, std::string message, std::string hint = {});
    void warning(core::source_pos at, std::string message, std::string hint = {});
    void add(core::diagnostic d);
    const std::string& file() const noexcept { return file_; }
    std::vector<core::diagnostic>& list() noexcept { return list_; }
    /// The file is in the original dialect: an expression field our language cannot parse is
    /// JavaScript (evaluated by the engine at run time), not an error.
    void set_original_dialect(bool on) noexcept { original_ = on; }
    bool original_dialect() const noexcept { return original_; }

private:
    std::string file_;
    bool original_ = false;
    std::vector<core::diagnostic> list_;
};

/// Checks every string in a value tree (payloads, inputs, messages): `${{ … }}` syntax and
/// duplicate keys. `what` names the value in messages (`step "build" payload`).
void check_value(const source_node& n, diagnostics_sink& sink, const std::string& what);
/// Checks a field that is an expression by nature (`condition`, `expression`, …).
void check_expression_field(const source_node& n, diagnostics_sink& sink, const std::string& what);

/// Reads the keys of one mapping with typed getters that report wrong types to the sink and
/// return nullopt; remembers which keys were read so `finish` can warn about the rest.
class map_reader {
public:
    /// `owner` names the map in messages: `step "deploy"`, `trigger "nightly"`, `workflow`.
    map_reader(const source_node& map, diagnostics_sink& sink, std::string owner);

    const source_node& node() const noexcept { return map_; }
    const std::string& owner() const noexcept { return owner_; }
    void rename(std::string owner) { owner_ = std::move(owner); }
    diagnostics_sink& sink() noexcept { return sink_; }

    /// The value of `key` (marking it as read), or nullptr.
    const source_node* get(std::string_view key);
    bool has(std::string_view key) const noexcept { return map_.find(key) != nullptr; }
    /// A scalar as written (numbers and booleans keep their text); null counts as absent.
    std::optional<std::string> text(std::string_view key);
    std::optional<std::int64_t> duration(std::string_view key);
    std::optional<bool> boolean(std::string_view key);
    std::optional<std::int64_t> integer(std::string_view key, std::int64_t min, std::int64_t max);
    /// A list of scalars, or one scalar as a list of one.
    std::vector<std::string> text_list(std::string_view key);
    /// Reports `key` missing (error) when it was not written; returns whether it is there.
    bool require(std::string_view key, std::string_view example);

    /// Warns about every key not read. `known` are the keys this map accepts (for "did you
    /// mean"); `elsewhere(key)` may explain a key that belongs to another kind of map.
    void finish(const std::vector<std::string_view>& known, std::string (*elsewhere)(std::string_view) = nullptr);

    void error(const source_node& at, std::string_view key, std::string message, std::string hint = {});

private:
    const source_node& map_;
    diagnostics_sink& sink_;
    std::string owner_;
    std::vector<std::string_view> read_;
};

}  // namespace orbitmesh::engine
