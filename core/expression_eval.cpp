// Tree-walking evaluator. Values read from the context are borrowed, not copied, so reading
// `steps.build.output.x` from a large context costs the path, not the whole output.
#include <cmath>
#include <limits>

#include "core/expression.hpp"
#include "core/expression_functions.hpp"

namespace orbitmesh::core {

namespace {

// A json either borrowed from the (outliving) context or owned by this evaluation.
class value {
public:
    static value borrow(const json& j) {
        value v;
        v.ref_ = &j;
        return v;
    }
    static value own(json j) {
        value v;
        v.owned_ = std::move(j);
        return v;
    }
    const json& get() const { return ref_ != nullptr ? *ref_ : owned_; }
    json take() { return ref_ != nullptr ? *ref_ : std::move(owned_); }
    // The element `child` (a reference into get()) as a value of its own.
    value part(const json& child) {
        if (ref_ != nullptr) return borrow(child);
        return own(std::move(const_cast<json&>(child)));  // owned_ dies with this value
    }

private:
    const json* ref_ = nullptr;
    json owned_;
};

std::string type_name(const json& v) {
    switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::string: return "a string";
    case json::value_t::array: return "a list";
    case json::value_t::object: return "a map";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return "a number";
    default: return "a binary value";
    }
}

struct number {
    bool is_int = false;
    std::int64_t i = 0;
    double d = 0;
};

number to_number(const json& v) {
    number n;
    if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) {
        n.d = v.get<double>();
    } else if (v.is_number_integer()) {
        n.is_int = true;
        n.i = v.get<std::int64_t>();
        n.d = static_cast<double>(n.i);
    } else {
        n.d = v.get<double>();
    }
    return n;
}

class evaluator {
public:
    evaluator(const expression& e, const json& context, const expression_limits& limits)
        : context_(context), budget_(e.source(), limits) {}

    value eval(const expr_node& n) {
        budget_.spend(n.offset);
        switch (n.type) {
        case expr_node::kind::literal: return value::borrow(n.value);
        case expr_node::kind::name: return eval_name(n);
        case expr_node::kind::member: return eval_member(n);
        case expr_node::kind::index: return eval_index(n);
        case expr_node::kind::call: return eval_call(n);
        case expr_node::kind::unary: return eval_unary(n);
        case expr_node::kind::binary: return eval_binary(n);
        case expr_node::kind::ternary:
            return truthy(eval(n.args[0]).get()) ? eval(n.args[1]) : eval(n.args[2]);
        case expr_node::kind::list: return eval_list(n);
        case expr_node::kind::map: return eval_map(n);
        }
        return value::own(nullptr);
    }

private:
    [[noreturn]] void fail(const expr_node& n, std::string reason, std::string hint = {}) const {
        budget_.fail(n.offset, std::move(reason), std::move(hint));
    }

    value eval_name(const expr_node& n) {
        if (!context_.is_object()) return value::own(nullptr);
        const std::string& key = n.name == "input" ? std::string("inputs") : n.name;
        auto it = context_.find(key);
        return it == context_.end() ? value::own(nullptr) : value::borrow(*it);
    }

    value eval_member(const expr_node& n) {
        value base = eval(n.args[0]);
        const json& b = base.get();
        if (b.is_null()) return value::own(nullptr);
        if (!b.is_object())
            fail(n, "cannot read \"." + n.name + "\" of " + type_name(b), "only maps have named members");
        auto it = b.find(n.name);
        return it == b.end() ? value::own(nullptr) : base.part(*it);
    }

    value eval_index(const expr_node& n) {
        value base = eval(n.args[0]);
        value key = eval(n.args[1]);
        const json& b = base.get();
        const json& k = key.get();
        if (b.is_null()) return value::own(nullptr);
        if (b.is_object()) {
            if (!k.is_string()) fail(n, "a map is indexed by a string, not by " + type_name(k));
            auto it = b.find(k.get_ref<const std::string&>());
            return it == b.end() ? value::own(nullptr) : base.part(*it);
        }
        if (!b.is_array()) fail(n, "cannot index " + type_name(b), "only lists and maps can be indexed");
        if (!k.is_number()) fail(n, "a list is indexed by a number, not by " + type_name(k));
        const number i = to_number(k);
        if (!i.is_int) fail(n, "list index must be a whole number");
        const auto size = static_cast<std::int64_t>(b.size());
        const std::int64_t at = i.i < 0 ? size + i.i : i.i;  // -1 is the last element
        if (at < 0 || at >= size) return value::own(nullptr);
        return base.part(b[static_cast<std::size_t>(at)]);
    }

    value eval_call(const expr_node& n) {
        std::vector<json> args;
        args.reserve(n.args.size());
        for (const auto& a : n.args) args.push_back(eval(a).take());
        return value::own(call_function(*find_function(n.name), args, budget_, n.offset));
    }

    value eval_unary(const expr_node& n) {
        value operand = eval(n.args[0]);
        const json& v = operand.get();
        if (n.op == expr_op::logical_not) return value::own(!truthy(v));
        if (!v.is_number()) fail(n, "cannot negate " + type_name(v), "\"-\" needs a number");
        const number x = to_number(v);
        if (x.is_int && x.i != std::numeric_limits<std::int64_t>::min()) return value::own(-x.i);
        return value::own(-x.d);
    }

    value eval_binary(const expr_node& n) {
        switch (n.op) {
        case expr_op::logical_and: {
            value l = eval(n.args[0]);
            return truthy(l.get()) ? eval(n.args[1]) : std::move(l);
        }
        case expr_op::logical_or: {
            value l = eval(n.args[0]);
            return truthy(l.get()) ? std::move(l) : eval(n.args[1]);
        }
        case expr_op::coalesce: {
            value l = eval(n.args[0]);
            return l.get().is_null() ? eval(n.args[1]) : std::move(l);
        }
        default: break;
        }
        value l = eval(n.args[0]);
        value r = eval(n.args[1]);
        return value::own(apply(n, l.get(), r.get()));
    }

    json apply(const expr_node& n, const json& a, const json& b) {
        switch (n.op) {
        case expr_op::equal: return a == b;
        case expr_op::not_equal: return a != b;
        case expr_op::less: return compare(n, a, b) == -1;
        case expr_op::less_equal: return compare(n, a, b) == -1 || compare(n, a, b) == 0;
        case expr_op::greater: return compare(n, a, b) == 1;
        case expr_op::greater_equal: return compare(n, a, b) == 1 || compare(n, a, b) == 0;
        case expr_op::in: return contains(n, b, a);
        case expr_op::add: return add(n, a, b);
        default: return arithmetic(n, a, b);
        }
    }

    // -1, 0 or 1; 2 when unordered (NaN), so that every relation with NaN is false.
    int compare(const expr_node& n, const json& a, const json& b) {
        if (a.is_number() && b.is_number()) {
            const number x = to_number(a), y = to_number(b);
            if (x.is_int && y.is_int) return x.i < y.i ? -1 : x.i > y.i ? 1 : 0;
            return x.d < y.d ? -1 : x.d > y.d ? 1 : x.d == y.d ? 0 : 2;
        }
        if (a.is_string() && b.is_string()) {
            const int c = a.get_ref<const std::string&>().compare(b.get_ref<const std::string&>());
            return c < 0 ? -1 : c > 0 ? 1 : 0;
        }
        fail(n, "cannot order " + type_name(a) + " and " + type_name(b), "<, <=, > and >= compare two numbers or two strings");
    }

    bool contains(const expr_node& n, const json& hay, const json& needle) {
        if (hay.is_array()) {
            budget_.spend(n.offset, hay.size());
            for (const auto& x : hay)
                if (x == needle) return true;
            return false;
        }
        if (hay.is_object() && needle.is_string()) return hay.contains(needle.get_ref<const std::string&>());
        if (hay.is_string() && needle.is_string())
            return hay.get_ref<const std::string&>().find(needle.get_ref<const std::string&>()) != std::string::npos;
        if (hay.is_null()) return false;
        fail(n, "\"in\" cannot look for " + type_name(needle) + " in " + type_name(hay),
             "use a list, a map (string keys) or a string on the right");
    }

    json add(const expr_node& n, const json& a, const json& b) {
        if (a.is_number() && b.is_number()) return arithmetic(n, a, b);
        if (a.is_string() || b.is_string()) {
            std::string s = stringify(a);
            const std::string t = stringify(b);
            budget_.check_string(n.offset, s.size() + t.size());
            return s + t;
        }
        if (a.is_array() && b.is_array()) {
            budget_.check_items(n.offset, a.size() + b.size());
            json out = a;
            for (const auto& x : b) out.push_back(x);
            return out;
        }
        if (a.is_object() && b.is_object()) {
            budget_.check_items(n.offset, a.size() + b.size());
            json out = a;
            for (auto it = b.begin(); it != b.end(); ++it) out[it.key()] = it.value();
            return out;
        }
        fail(n, "cannot add " + type_name(a) + " and " + type_name(b),
             "+ adds numbers, joins strings, lists or maps");
    }

    json arithmetic(const expr_node& n, const json& a, const json& b) {
        if (!a.is_number() || !b.is_number())
            fail(n, "arithmetic needs two numbers, got " + type_name(a) + " and " + type_name(b));
        const number x = to_number(a), y = to_number(b);
        if (x.is_int && y.is_int) {
            if (auto r = int_arithmetic(n, x.i, y.i)) return *r;
        }
        switch (n.op) {
        case expr_op::add: return x.d + y.d;
        case expr_op::subtract: return x.d - y.d;
        case expr_op::multiply: return x.d * y.d;
        case expr_op::divide:
            if (y.d == 0) fail(n, "division by zero");
            return x.d / y.d;
        default:
            if (y.d == 0) fail(n, "modulo by zero");
            return std::fmod(x.d, y.d);
        }
    }

    // Exact integer result, or nullopt to fall back to floating point (overflow, inexact division).
    std::optional<json> int_arithmetic(const expr_node& n, std::int64_t a, std::int64_t b) {
        std::int64_t r = 0;
        switch (n.op) {
        case expr_op::add: if (!__builtin_add_overflow(a, b, &r)) return json(r); return std::nullopt;
        case expr_op::subtract: if (!__builtin_sub_overflow(a, b, &r)) return json(r); return std::nullopt;
        case expr_op::multiply: if (!__builtin_mul_overflow(a, b, &r)) return json(r); return std::nullopt;
        case expr_op::divide:
            if (b == 0) fail(n, "division by zero");
            if (b == -1 && a == std::numeric_limits<std::int64_t>::min()) return std::nullopt;
            if (a % b == 0) return json(a / b);
            return std::nullopt;
        default:
            if (b == 0) fail(n, "modulo by zero");
            if (b == -1) return json(0);
            return json(a % b);
        }
    }

    value eval_list(const expr_node& n) {
        budget_.check_items(n.offset, n.args.size());
        json out = json::array();
        for (const auto& a : n.args) out.push_back(eval(a).take());
        return value::own(std::move(out));
    }

    value eval_map(const expr_node& n) {
        json out = json::object();
        for (std::size_t i = 0; i < n.args.size(); ++i) out[n.keys[i]] = eval(n.args[i]).take();
        return value::own(std::move(out));
    }

    const json& context_;
    expression_budget budget_;
};

void collect_steps(const expr_node& n, std::vector<std::string>& out) {
    const bool on_steps = !n.args.empty() && n.args[0].type == expr_node::kind::name && n.args[0].name == "steps";
    if (on_steps && n.type == expr_node::kind::member) out.push_back(n.name);
    if (on_steps && n.type == expr_node::kind::index && n.args[1].type == expr_node::kind::literal &&
        n.args[1].value.is_string())
        out.push_back(n.args[1].value.get<std::string>());
    for (const auto& a : n.args) collect_steps(a, out);
}

}  // namespace

json evaluate(const expression& e, const json& context, const expression_limits& limits) {
    evaluator ev(e, context, limits);
    return ev.eval(e.root()).take();
}

bool truthy(const json& v) noexcept {
    switch (v.type()) {
    case json::value_t::null: return false;
    case json::value_t::boolean: return v.get<bool>();
    case json::value_t::number_integer: return v.get<std::int64_t>() != 0;
    case json::value_t::number_unsigned: return v.get<std::uint64_t>() != 0;
    case json::value_t::number_float: {
        const double d = v.get<double>();
        return d != 0 && !std::isnan(d);
    }
    case json::value_t::string: return !v.get_ref<const std::string&>().empty();
    default: return true;
    }
}

std::string stringify(const json& v) {
    if (v.is_string()) return v.get<std::string>();
    return v.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::vector<std::string> referenced_steps(const expression& e) {
    std::vector<std::string> out;
    collect_steps(e.root(), out);
    return out;
}

}  // namespace orbitmesh::core
