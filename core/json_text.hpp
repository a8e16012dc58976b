#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "core/json.hpp"

namespace orbitmesh::core {

/// Appends JSON text straight to a string, without building a json tree first: for records
/// serialised on every job (projection rows, replies). The text equals what
/// `json::dump(-1, ' ', false, error_handler_t::replace)` prints for the same value.
class json_text {
public:
    explicit json_text(std::string& out) : out_(out) {}

    json_text& str(std::string_view s);
    json_text& num(std::int64_t v);
    json_text& boolean(bool v);
    /// A wall-clock time in ms as core::format_time writes it ("" for ms <= 0), without allocating.
    json_text& time(std::int64_t ms);
    json_text& null();
    json_text& value(const json& v);  // any json value, dumped
    /// A string, or null when empty.
    json_text& str_or_null(std::string_view s) { return s.empty() ? null() : str(s); }

    /// Object and array punctuation; `key` writes `"k":` after a comma when needed.
    json_text& begin_object();
    json_text& end_object();
    json_text& begin_array();
    json_text& end_array();
    json_text& key(std::string_view k);
    /// A key written in our own source (a string literal): known to need no escaping, so it is
    /// copied without the check every record's two dozen keys would otherwise pay.
    template <std::size_t N>
    json_text& key(const char (&k)[N]) {
        separate();
        out_ += '"';
        out_.append(k, N - 1);
        out_ += "\":";
        first_ = true;
        return *this;
    }

private:
    void separate();

    std::string& out_;
    bool first_ = true;  // no comma before the next element of the innermost container
};

}  // namespace orbitmesh::core
