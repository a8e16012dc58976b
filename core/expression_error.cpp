#include "core/expression_error.hpp"

namespace orbitmesh::core {

namespace {

std::string shorten(std::string_view text) {
    constexpr std::size_t max_shown = 80;
    std::string out(text.substr(0, max_shown));
    for (char& c : out)
        if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    if (text.size() > max_shown) out += "...";
    return out;
}

std::string compose(std::string_view text, std::size_t column, const std::string& reason, const std::string& hint) {
    std::string m = "expression \"" + shorten(text) + "\": column " + std::to_string(column) + ": " + reason;
    if (!hint.empty()) m += " (" + hint + ")";
    return m;
}

}  // namespace

expression_error::expression_error(std::string_view text, std::size_t offset, std::string reason, std::string hint)
    : error(error_kind::invalid_input, compose(text, offset + 1, reason, hint)),
      column_(offset + 1),
      reason_(std::move(reason)),
      hint_(std::move(hint)) {}

}  // namespace orbitmesh::core
