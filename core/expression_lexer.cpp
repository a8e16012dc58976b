#include "core/expression_lexer.hpp"

#include <cctype>
#include <charconv>

#include "core/expression_error.hpp"

namespace orbitmesh::core {

namespace {

bool is_name_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

class lexer {
public:
    explicit lexer(std::string_view text) : text_(text) {}

    std::vector<token> run() {
        std::vector<token> out;
        for (;;) {
            while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
            if (pos_ >= text_.size()) break;
            const bool after_dot = !out.empty() && out.back().kind == lex_kind::dot;
            out.push_back(next(after_dot));
        }
        token end;
        end.offset = static_cast<std::uint32_t>(text_.size());
        out.push_back(std::move(end));
        return out;
    }

private:
    [[noreturn]] void fail(std::size_t at, std::string reason, std::string hint = {}) const {
        throw expression_error(text_, at, std::move(reason), std::move(hint));
    }

    token make(lex_kind k, std::size_t start) const {
        token t;
        t.kind = k;
        t.offset = static_cast<std::uint32_t>(start);
        return t;
    }

    token next(bool after_dot) {
        const char c = text_[pos_];
        if (is_digit(c)) return lex_number();
        if (c == '\'' || c == '"') return lex_string();
        if (is_name_start(c)) return lex_name(after_dot);
        return lex_operator();
    }

    token lex_number() {
        const std::size_t start = pos_;
        bool is_float = false;
        while (pos_ < text_.size() && is_digit(text_[pos_])) ++pos_;
        if (pos_ + 1 < text_.size() && text_[pos_] == '.' && is_digit(text_[pos_ + 1])) {
            is_float = true;
            for (++pos_; pos_ < text_.size() && is_digit(text_[pos_]);) ++pos_;
        }
        if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
            std::size_t p = pos_ + 1;
            if (p < text_.size() && (text_[p] == '+' || text_[p] == '-')) ++p;
            if (p >= text_.size() || !is_digit(text_[p])) fail(start, "malformed number exponent", "write e.g. 1e3");
            is_float = true;
            for (pos_ = p; pos_ < text_.size() && is_digit(text_[pos_]);) ++pos_;
        }
        if (pos_ < text_.size() && is_name_char(text_[pos_]))
            fail(start, "malformed number \"" + std::string(text_.substr(start, pos_ + 1 - start)) + "\"",
                 "names cannot start with a digit");
        token t = make(lex_kind::number, start);
        const char* first = text_.data() + start;
        const char* last = text_.data() + pos_;
        std::int64_t i = 0;
        if (!is_float && std::from_chars(first, last, i).ec == std::errc()) {
            t.number = i;
        } else {
            double d = 0;
            std::from_chars(first, last, d);  // too large for int64: keep it as a float
            t.number = d;
        }
        return t;
    }

    std::uint32_t read_hex4(std::size_t at) const {
        if (at + 4 > text_.size()) fail(at, "incomplete \\u escape", "write \\u followed by 4 hex digits");
        std::uint32_t cp = 0;
        auto res = std::from_chars(text_.data() + at, text_.data() + at + 4, cp, 16);
        if (res.ec != std::errc() || res.ptr != text_.data() + at + 4)
            fail(at, "bad \\u escape", "write \\u followed by 4 hex digits");
        if (cp >= 0xD800 && cp <= 0xDFFF) fail(at, "\\u escape names a lone surrogate");
        return cp;
    }

    void lex_escape(std::string& out) {
        const std::size_t at = pos_;
        if (++pos_ >= text_.size()) fail(at, "string ends inside an escape");
        const char e = text_[pos_++];
        switch (e) {
        case 'n': out += '\n'; return;
        case 't': out += '\t'; return;
        case 'r': out += '\r'; return;
        case '0': out += '\0'; return;
        case '\\': case '\'': case '"': case '/': out += e; return;
        case 'u':
            append_utf8(out, read_hex4(pos_));
            pos_ += 4;
            return;
        default:
            fail(at, std::string("unknown escape \\") + e, "use \\n, \\t, \\r, \\\\, \\', \\\" or \\uXXXX");
        }
    }

    token lex_string() {
        const std::size_t start = pos_;
        const char quote = text_[pos_++];
        token t = make(lex_kind::string, start);
        for (;;) {
            if (pos_ >= text_.size())
                fail(start, "unterminated string", std::string("close it with ") + quote);
            const char c = text_[pos_];
            if (c == quote) break;
            if (c == '\\') {
                lex_escape(t.text);
            } else {
                t.text += c;
                ++pos_;
            }
        }
        ++pos_;
        return t;
    }

    token lex_name(bool after_dot) {
        const std::size_t start = pos_;
        while (pos_ < text_.size()) {
            const char c = text_[pos_];
            const bool dash_inside = after_dot && c == '-' && pos_ + 1 < text_.size() && is_name_char(text_[pos_ + 1]);
            if (!is_name_char(c) && !dash_inside) break;
            ++pos_;
        }
        const std::string_view word = text_.substr(start, pos_ - start);
        lex_kind k = lex_kind::identifier;
        if (!after_dot) {
            if (word == "true") k = lex_kind::kw_true;
            else if (word == "false") k = lex_kind::kw_false;
            else if (word == "null") k = lex_kind::kw_null;
            else if (word == "in") k = lex_kind::kw_in;
        }
        token t = make(k, start);
        if (k == lex_kind::identifier) t.text = std::string(word);
        return t;
    }

    bool take(char c) {
        if (pos_ < text_.size() && text_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }

    token lex_operator() {
        const std::size_t start = pos_;
        const char c = text_[pos_++];
        switch (c) {
        case '(': return make(lex_kind::lparen, start);
        case ')': return make(lex_kind::rparen, start);
        case '[': return make(lex_kind::lbracket, start);
        case ']': return make(lex_kind::rbracket, start);
        case '{': return make(lex_kind::lbrace, start);
        case '}': return make(lex_kind::rbrace, start);
        case ',': return make(lex_kind::comma, start);
        case ':': return make(lex_kind::colon, start);
        case '.': return make(lex_kind::dot, start);
        case '+': return make(lex_kind::plus, start);
        case '-': return make(lex_kind::minus, start);
        case '*': return make(lex_kind::star, start);
        case '/': return make(lex_kind::slash, start);
        case '%': return make(lex_kind::percent, start);
        case '?': return make(take('?') ? lex_kind::coalesce : lex_kind::question, start);
        case '<': return make(take('=') ? lex_kind::less_equal : lex_kind::less, start);
        case '>': return make(take('=') ? lex_kind::greater_equal : lex_kind::greater, start);
        default: return lex_paired(c, start);
        }
    }

    token lex_paired(char c, std::size_t start) {
        switch (c) {
        case '!':
            if (!take('=')) return make(lex_kind::bang, start);
            if (take('=')) fail(start, "unknown operator !==", "use != to compare");
            return make(lex_kind::not_equal, start);
        case '=':
            if (!take('=')) fail(start, "unexpected \"=\"", "use == to compare; expressions cannot assign");
            if (take('=')) fail(start, "unknown operator ===", "use == to compare");
            return make(lex_kind::equal, start);
        case '&':
            if (!take('&')) fail(start, "unexpected \"&\"", "use && for \"and\"");
            return make(lex_kind::and_and, start);
        case '|':
            if (!take('|')) fail(start, "unexpected \"|\"", "use || for \"or\"");
            return make(lex_kind::or_or, start);
        default:
            break;
        }
        const unsigned char u = static_cast<unsigned char>(c);
        std::string shown = u >= 0x20 && u < 0x7F ? std::string("\"") + c + "\"" : "byte " + std::to_string(u);
        fail(start, "unexpected character " + shown);
    }

    std::string_view text_;
    std::size_t pos_ = 0;
};

}  // namespace

std::vector<token> tokenize(std::string_view text) {
    return lexer(text).run();
}

}  // namespace orbitmesh::core
