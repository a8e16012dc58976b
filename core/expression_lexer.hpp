#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.hpp"

namespace orbitmesh::core {

enum class lex_kind : std::uint8_t {
    end, number, string, identifier,
    lparen, rparen, lbracket, rbracket, lbrace, rbrace, comma, colon, dot,
    question, coalesce, plus, minus, star, slash, percent, bang,
    equal, not_equal, less, less_equal, greater, greater_equal, and_and, or_or,
    kw_true, kw_false, kw_null, kw_in,
};

struct token {
    lex_kind kind = lex_kind::end;
    std::uint32_t offset = 0;  // 0-based position in the text
    std::string text;          // identifier name or decoded string
    json number;               // number literal: integer or float
};

/// Splits expression text into tokens, ending with one `end` token. A name right after `.` may
/// contain `-` (`steps.check-disk.output`), elsewhere `-` is minus.
/// Throws core::expression_error naming the column of the first bad character.
std::vector<token> tokenize(std::string_view text);

}  // namespace orbitmesh::core
