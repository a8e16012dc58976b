#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "core/event.hpp"
#include "core/json.hpp"

namespace orbitmesh::core {

/// A read-only view of one MessagePack value inside a buffer the caller keeps alive (event data
/// as SQLite hands it out): scalars are read and maps walked in place, without allocating, so a
/// replay can look at millions of events without building a json tree for each. Every read is
/// bounds-checked; a malformed buffer throws core::error{invalid_input}, it never reads past the
/// end. Copyable and cheap (two pointers).
class mp_value {
public:
    enum class kind { nil, boolean, integer, floating, string, binary, array, map, ext };

    mp_value() = default;
    /// The value starting at `data.front()`; the span bounds every read.
    explicit mp_value(std::span<const std::uint8_t> data);

    kind type() const { return h_.k; }
    bool is_nil() const { return h_.k == kind::nil; }
    bool is_string() const { return h_.k == kind::string; }
    bool is_number() const { return h_.k == kind::integer || h_.k == kind::floating; }
    bool is_map() const { return h_.k == kind::map; }
    bool is_array() const { return h_.k == kind::array; }

    /// Integers (any width; an unsigned above INT64_MAX throws) and whole floats.
    std::int64_t as_int() const;
    double as_double() const;
    bool as_bool() const;
    std::string_view as_string() const;
    /// Elements of an array, entries of a map.
    std::size_t size() const;

    /// The value under `key` in a map; nullopt when absent or when this is not a map.
    std::optional<mp_value> find(std::string_view key) const;
    /// Calls fn(key, value) for every entry of a map, in stored order (keys must be strings).
    template <typename F>
    void for_each_entry(F&& fn) const;
    /// Like for_each_entry, for callers that walk some values themselves: fn returns the end of
    /// the value when it walked it, nullptr to have it skipped. Returns the end of the map (and
    /// remembers it): a value is walked once however it is read.
    template <typename F>
    const std::uint8_t* walk_entries(F&& fn) const;
    /// Calls fn(value) for every element of an array.
    template <typename F>
    void for_each_element(F&& fn) const;
    /// Where this value's header starts.
    const std::uint8_t* start() const { return p_; }
    /// This value, knowing where it ends (the caller walked it): raw() and after() are then free.
    mp_value ending_at(const std::uint8_t* stop) const {
        mp_value v = *this;
        v.stop_ = stop;
        return v;
    }

    /// The bytes of this value (header and contents).
    std::span<const std::uint8_t> raw() const;
    /// The value as a json tree (allocates; for the rare paths that need one).
    json to_json() const;

private:
    struct header {
        kind k = kind::nil;
        std::uint64_t length = 0;  // string/binary bytes, array/map entries; integer payload for ints
        std::size_t size = 0;      // header bytes
        bool negative = false;
    };
    /// Decodes the header at p (bounds-checked) once; every accessor reads the cached fields.
    mp_value(const std::uint8_t* p, const std::uint8_t* end);
    static header decode_header(const std::uint8_t* p, const std::uint8_t* end);
    const std::uint8_t* first_child() const { return p_ + h_.size; }
    /// The end of the value starting at p.
    static const std::uint8_t* skip(const std::uint8_t* p, const std::uint8_t* end, int depth);
    const std::uint8_t* after() const;

    const std::uint8_t* p_ = nullptr;
    const std::uint8_t* end_ = nullptr;
    header h_;
    mutable const std::uint8_t* stop_ = nullptr;  // after(), once known: containers are walked once
};

template <typename F>
void mp_value::for_each_entry(F&& fn) const {
    if (!is_map()) return;
    const auto n = size();
    const std::uint8_t* p = first_child();
    for (std::size_t i = 0; i < n; ++i) {
        mp_value k(p, end_);
        mp_value val(k.after(), end_);
        p = val.after();
        fn(k.as_string(), val);
    }
}

template <typename F>
const std::uint8_t* mp_value::walk_entries(F&& fn) const {
    if (!is_map()) return after();
    const auto n = size();
    const std::uint8_t* p = first_child();
    for (std::size_t i = 0; i < n; ++i) {
        mp_value k(p, end_);
        mp_value val(k.after(), end_);
        const std::uint8_t* walked = fn(k.as_string(), val);
        p = walked != nullptr ? walked : val.after();
    }
    stop_ = p;
    return p;
}

template <typename F>
void mp_value::for_each_element(F&& fn) const {
    if (!is_array()) return;
    const auto n = size();
    const std::uint8_t* p = first_child();
    for (std::size_t i = 0; i < n; ++i) {
        mp_value v(p, end_);
        p = v.after();
        fn(v);
    }
}

/// An event read in place as a core::event of its own (data decoded): for the few events a
/// replay needs whole. Throws core::error{invalid_input} for data that is not MessagePack.
event to_event(const event_view& v);

}  // namespace orbitmesh::core
