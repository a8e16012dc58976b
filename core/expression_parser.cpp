// Recursive-descent parser for the expression language of SPEC §4. Precedence, lowest first:
// ?:  ??  ||  &&  == !=  < <= > >= in  + -  * / %  unary ! -  then .x [e] and calls.
#include <algorithm>

#include "core/expression.hpp"
#include "core/expression_functions.hpp"
#include "core/expression_lexer.hpp"
#include "core/workflow_suggest.hpp"

namespace orbitmesh::core {

namespace {

struct binary_level {
    lex_kind token;
    expr_op op;
    int level;  // higher binds tighter
};

constexpr binary_level binary_ops[] = {
    {lex_kind::coalesce, expr_op::coalesce, 0},
    {lex_kind::or_or, expr_op::logical_or, 1},
    {lex_kind::and_and, expr_op::logical_and, 2},
    {lex_kind::equal, expr_op::equal, 3},
    {lex_kind::not_equal, expr_op::not_equal, 3},
    {lex_kind::less, expr_op::less, 4},
    {lex_kind::less_equal, expr_op::less_equal, 4},
    {lex_kind::greater, expr_op::greater, 4},
    {lex_kind::greater_equal, expr_op::greater_equal, 4},
    {lex_kind::kw_in, expr_op::in, 4},
    {lex_kind::plus, expr_op::add, 5},
    {lex_kind::minus, expr_op::subtract, 5},
    {lex_kind::star, expr_op::multiply, 6},
    {lex_kind::slash, expr_op::divide, 6},
    {lex_kind::percent, expr_op::modulo, 6},
};
constexpr int top_level = 6;

const binary_level* find_binary(lex_kind k) {
    for (const auto& b : binary_ops)
        if (b.token == k) return &b;
    return nullptr;
}

std::string describe(const token& t) {
    switch (t.kind) {
    case lex_kind::end: return "the end of the expression";
    case lex_kind::number: return "number " + t.number.dump();
    case lex_kind::string: return "a string";
    case lex_kind::identifier: return "name \"" + t.text + "\"";
    case lex_kind::lparen: return "\"(\"";
    case lex_kind::rparen: return "\")\"";
    case lex_kind::lbracket: return "\"[\"";
    case lex_kind::rbracket: return "\"]\"";
    case lex_kind::lbrace: return "\"{\"";
    case lex_kind::rbrace: return "\"}\"";
    case lex_kind::comma: return "\",\"";
    case lex_kind::colon: return "\":\"";
    case lex_kind::dot: return "\".\"";
    case lex_kind::question: return "\"?\"";
    case lex_kind::kw_true: return "true";
    case lex_kind::kw_false: return "false";
    case lex_kind::kw_null: return "null";
    case lex_kind::kw_in: return "\"in\"";
    default: return "an operator";
    }
}

class parser {
public:
    parser(std::string_view text, std::vector<token> tokens, const expression_limits& limits)
        : text_(text), tokens_(std::move(tokens)), limits_(limits) {}

    expr_node parse_all() {
        expr_node root = parse_ternary();
        if (peek().kind != lex_kind::end)
            fail(peek().offset, "unexpected " + describe(peek()) + " after a complete expression",
                 "join values with an operator such as &&, || or +");
        return root;
    }

private:
    class nesting_guard {
    public:
        nesting_guard(parser& p, std::size_t offset) : p_(p) {
            if (++p_.nesting_ > p_.limits_.max_nesting)
                p_.fail(offset, "expression nests deeper than " + std::to_string(p_.limits_.max_nesting) + " levels",
                        "split it into smaller expressions or transform steps");
        }
        ~nesting_guard() { --p_.nesting_; }
        nesting_guard(const nesting_guard&) = delete;
        nesting_guard& operator=(const nesting_guard&) = delete;

    private:
        parser& p_;
    };

    [[noreturn]] void fail(std::size_t offset, std::string reason, std::string hint = {}) const {
        throw expression_error(text_, offset, std::move(reason), std::move(hint));
    }

    const token& peek() const { return tokens_[pos_]; }
    token take() {
        token t = std::move(tokens_[pos_]);
        if (tokens_[pos_].kind != lex_kind::end && pos_ + 1 < tokens_.size()) ++pos_;
        return t;
    }
    void skip() {
        if (pos_ + 1 < tokens_.size()) ++pos_;
    }
    bool accept(lex_kind k) {
        if (peek().kind != k) return false;
        skip();
        return true;
    }
    void expect(lex_kind k, const char* what, std::size_t opened_at) {
        if (accept(k)) return;
        fail(peek().offset, std::string("expected ") + what + ", found " + describe(peek()),
             "opened at column " + std::to_string(opened_at + 1));
    }

    expr_node node(expr_node::kind k, std::size_t offset) const {
        expr_node n;
        n.type = k;
        n.offset = static_cast<std::uint32_t>(offset);
        return n;
    }

    // Adds a child and keeps the subtree height under the limit (a+b+c+… grows it too).
    void adopt(expr_node& parent, expr_node child) {
        const std::size_t d = static_cast<std::size_t>(child.depth) + 1;
        if (d > limits_.max_tree_depth)
            fail(parent.offset, "expression is too long a chain (more than " +
                                    std::to_string(limits_.max_tree_depth) + " levels)",
                 "split it into smaller expressions");
        parent.depth = static_cast<std::uint16_t>(std::max<std::size_t>(parent.depth, d));
        parent.args.push_back(std::move(child));
    }

    expr_node parse_ternary() {
        nesting_guard guard(*this, peek().offset);
        expr_node cond = parse_binary(0);
        if (peek().kind != lex_kind::question) return cond;
        const std::size_t at = peek().offset;
        skip();
        expr_node n = node(expr_node::kind::ternary, at);
        adopt(n, std::move(cond));
        adopt(n, parse_ternary());
        expect(lex_kind::colon, "\":\" of the ?: operator", at);
        adopt(n, parse_ternary());
        return n;
    }

    expr_node parse_binary(int level) {
        if (level > top_level) return parse_unary();
        expr_node left = parse_binary(level + 1);
        for (;;) {
            const binary_level* b = find_binary(peek().kind);
            if (b == nullptr || b->level != level) return left;
            const std::size_t at = peek().offset;
            skip();
            expr_node n = node(expr_node::kind::binary, at);
            n.op = b->op;
            adopt(n, std::move(left));
            adopt(n, parse_binary(level + 1));
            left = std::move(n);
        }
    }

    expr_node parse_unary() {
        const lex_kind k = peek().kind;
        if (k != lex_kind::bang && k != lex_kind::minus) return parse_postfix();
        const std::size_t at = peek().offset;
        nesting_guard guard(*this, at);
        skip();
        expr_node n = node(expr_node::kind::unary, at);
        n.op = k == lex_kind::bang ? expr_op::logical_not : expr_op::negate;
        adopt(n, parse_unary());
        return n;
    }

    expr_node parse_postfix() {
        expr_node value = parse_primary();
        for (;;) {
            const std::size_t at = peek().offset;
            if (accept(lex_kind::dot)) {
                if (peek().kind != lex_kind::identifier)
                    fail(peek().offset, "expected a name after \".\", found " + describe(peek()),
                         "write e.g. steps.build.output, or use ['key'] for other keys");
                expr_node n = node(expr_node::kind::member, at);
                n.name = take().text;
                adopt(n, std::move(value));
                value = std::move(n);
            } else if (accept(lex_kind::lbracket)) {
                expr_node n = node(expr_node::kind::index, at);
                adopt(n, std::move(value));
                adopt(n, parse_ternary());
                expect(lex_kind::rbracket, "\"]\"", at);
                value = std::move(n);
            } else {
                return value;
            }
        }
    }

    expr_node parse_primary() {
        const std::size_t at = peek().offset;
        switch (peek().kind) {
        case lex_kind::number: {
            expr_node n = node(expr_node::kind::literal, at);
            n.value = take().number;
            return n;
        }
        case lex_kind::string: {
            expr_node n = node(expr_node::kind::literal, at);
            n.value = take().text;
            return n;
        }
        case lex_kind::kw_true: skip(); return literal(at, true);
        case lex_kind::kw_false: skip(); return literal(at, false);
        case lex_kind::kw_null: skip(); return literal(at, nullptr);
        case lex_kind::identifier: return parse_name();
        case lex_kind::lparen: {
            skip();
            expr_node inner = parse_ternary();
            expect(lex_kind::rparen, "\")\"", at);
            return inner;
        }
        case lex_kind::lbracket: return parse_list();
        case lex_kind::lbrace: return parse_map();
        default:
            fail(at, "expected a value, found " + describe(peek()),
                 peek().kind == lex_kind::end ? "the expression is incomplete" : std::string());
        }
    }

    expr_node literal(std::size_t at, json v) const {
        expr_node n = node(expr_node::kind::literal, at);
        n.value = std::move(v);
        return n;
    }

    expr_node parse_name() {
        const std::size_t at = peek().offset;
        std::string name = take().text;
        if (peek().kind != lex_kind::lparen) {
            expr_node n = node(expr_node::kind::name, at);
            n.name = std::move(name);
            return n;
        }
        const function_info* f = find_function(name);
        if (f == nullptr) {
            std::string hint = did_you_mean(name, function_names());
            if (hint.empty()) hint = "known functions: len, contains, starts_with, ends_with, lower, upper, join, "
                                     "split, to_json, from_json, default";
            fail(at, "unknown function \"" + name + "\"", hint);
        }
        expr_node n = node(expr_node::kind::call, at);
        n.name = std::move(name);
        parse_items(n, lex_kind::rparen, "\")\" or \",\"", peek().offset);
        if (n.args.size() < f->min_args || n.args.size() > f->max_args)
            fail(at, n.name + "() takes " + arity_text(*f) + ", got " + std::to_string(n.args.size()));
        return n;
    }

    static std::string arity_text(const function_info& f) {
        auto plural = [](std::size_t n) { return std::to_string(n) + (n == 1 ? " argument" : " arguments"); };
        if (f.min_args == f.max_args) return plural(f.min_args);
        return std::to_string(f.min_args) + " or " + plural(f.max_args);
    }

    // `(`/`[` already current; reads comma-separated values up to `close` (a trailing comma is fine).
    void parse_items(expr_node& n, lex_kind close, const char* what, std::size_t opened_at) {
        skip();
        while (!accept(close)) {
            adopt(n, parse_ternary());
            if (accept(close)) break;
            expect(lex_kind::comma, what, opened_at);
        }
    }

    expr_node parse_list() {
        const std::size_t at = peek().offset;
        expr_node n = node(expr_node::kind::list, at);
        parse_items(n, lex_kind::rbracket, "\"]\" or \",\"", at);
        return n;
    }

    expr_node parse_map() {
        const std::size_t at = peek().offset;
        expr_node n = node(expr_node::kind::map, at);
        skip();
        while (!accept(lex_kind::rbrace)) {
            const lex_kind k = peek().kind;
            if (k != lex_kind::identifier && k != lex_kind::string)
                fail(peek().offset, "expected a map key, found " + describe(peek()), "keys are names or quoted strings");
            const std::size_t key_at = peek().offset;
            std::string key = take().text;
            if (std::find(n.keys.begin(), n.keys.end(), key) != n.keys.end())
                fail(key_at, "duplicate map key \"" + key + "\"");
            expect(lex_kind::colon, "\":\" after the map key", key_at);
            n.keys.push_back(std::move(key));
            adopt(n, parse_ternary());
            if (accept(lex_kind::rbrace)) break;
            expect(lex_kind::comma, "\"}\" or \",\"", at);
        }
        return n;
    }

    std::string_view text_;
    std::vector<token> tokens_;
    const expression_limits& limits_;
    std::size_t pos_ = 0;
    std::size_t nesting_ = 0;
};

}  // namespace

expression parse_expression(std::string_view text, const expression_limits& limits) {
    if (text.size() > limits.max_text)
        throw expression_error(text, 0, "expression is " + std::to_string(text.size()) + " characters long, more than " +
                                            std::to_string(limits.max_text));
    parser p(text, tokenize(text), limits);
    expr_node root = p.parse_all();
    expression e;
    e.source_ = std::string(text);
    e.root_ = std::make_shared<const expr_node>(std::move(root));
    return e;
}

}  // namespace orbitmesh::core
