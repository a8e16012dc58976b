#pragma once
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/json.hpp"

namespace orbitmesh::core {

/// Reads the typed fields of one JSON map and names the field in every error, nested ones
/// included: `heartbeat field "load.cpu" must be a number, got a string`. Throws core::error of
/// the reader's kind (protocol for /mesh messages, invalid_input for request bodies and specs).
/// A reader over a mutable value moves strings and values out of it (the caller's parsed copy);
/// over a const one it copies. Absent and null fields are the same ("not given"). The value must
/// outlive the reader. Not thread-safe.
class field_reader {
public:
    static constexpr std::int64_t int_max = std::numeric_limits<int>::max();

    /// `what` names the whole value ("heartbeat", "request body", "job"); throws when `value`
    /// is not a map.
    field_reader(json& value, std::string_view what, error_kind kind);
    field_reader(const json& value, std::string_view what, error_kind kind);

    bool has(std::string_view key) const;
    /// The map's keys, for readers that refuse unknown ones.
    std::vector<std::string> keys() const;
    /// The raw field, or nullptr when absent or null (for fields that take several types).
    const json* get(std::string_view key) const { return find(key); }

    std::string text(std::string_view key);
    std::optional<std::string> maybe_text(std::string_view key);
    std::int64_t integer(std::string_view key, std::int64_t min, std::int64_t max);
    std::optional<std::int64_t> maybe_integer(std::string_view key, std::int64_t min, std::int64_t max);
    /// A finite number (integer or float) within [min, max].
    double number(std::string_view key, double min, double max);
    std::optional<double> maybe_number(std::string_view key, double min, double max);
    std::optional<bool> maybe_boolean(std::string_view key);
    /// Any value, null when absent.
    json value(std::string_view key);
    /// Any value but null; throws when absent.
    json required_value(std::string_view key);

    /// A nested map, read with the same rules; its errors name `key.field`.
    field_reader object(std::string_view key);
    std::optional<field_reader> maybe_object(std::string_view key);
    /// An array whose items are maps (`key[2].field` in errors).
    std::vector<field_reader> objects(std::string_view key);
    std::optional<std::vector<std::string>> maybe_strings(std::string_view key);
    std::vector<std::string> strings(std::string_view key);
    std::optional<std::map<std::string, std::string>> maybe_string_map(std::string_view key);
    std::map<std::string, std::string> string_map(std::string_view key);

    /// From now on remember which fields are read, for refuse_unread (request bodies only: the
    /// /mesh hot path never pays for it).
    void track_reads();
    /// Throws, naming them, when the map has fields nothing read since track_reads():
    /// `job field "limits" is not supported (known fields: command, payload, ...)`.
    void refuse_unread() const;

    /// Throws the reader's error for `key`: `WHAT field "PATH.key" PROBLEM`.
    [[noreturn]] void fail(std::string_view key, const std::string& problem) const;
    /// The field's full name in errors ("load.cpu").
    std::string path_of(std::string_view key) const;

private:
    field_reader(const json* value, json* writable, std::string_view what, error_kind kind, std::string path);
    /// The field, or nullptr when absent or null.
    const json* find(std::string_view key) const;
    json* find_writable(std::string_view key) const;
    [[noreturn]] void wrong_type(std::string_view key, std::string_view expected, const json& got) const;
    [[noreturn]] void missing(std::string_view key) const;

    const json* value_;
    json* writable_;  // null for a const value: copy instead of moving
    std::string_view what_;
    error_kind kind_;
    std::string path_;  // "" or "load." or "running[0]."
    std::shared_ptr<std::set<std::string, std::less<>>> read_;  // null unless track_reads()
};

/// "a string", "an integer", "a map", ...: what an error says a value was.
std::string_view describe_type(const json& v) noexcept;

/// At most `max` bytes of `s` fit for a one-line error (and a WebSocket close reason, which must
/// be UTF-8): anything but printable ASCII becomes '?'.
std::string printable(std::string_view s, std::size_t max);

}  // namespace orbitmesh::core
