#include <catch2/catch.hpp>

#include "core/expression.hpp"

using orbitmesh::core::evaluate;
using orbitmesh::core::expression_error;
using orbitmesh::core::json;
using orbitmesh::core::parse_expression;

namespace {

const json context = json::parse(R"({
  "inputs": {"env": "prod", "count": 3, "names": ["a", "b"], "flag": false},
  "vars": {"region": "eu", "limit": 5.0},
  "steps": {"build": {"status": "succeeded", "output": {"version": "1.2.3", "files": [1, 2, 3]}},
            "check-disk": {"output": {"free": 42}}},
  "run": {"id": "run-1"},
  "item": {"host": "web1"},
  "index": 2,
  "deployPlan": {"target": "green"}
})");

json eval(const std::string& text) { return evaluate(parse_expression(text), context); }

std::string error_of(const std::string& text) {
    try {
        eval(text);
    } catch (const expression_error& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

TEST_CASE("expression: literals of every kind") {
    CHECK(eval("42") == 42);
    CHECK(eval("4.5") == 4.5);
    CHECK(eval("1e3") == 1000.0);
    CHECK(eval("'it\\'s'") == "it's");
    CHECK(eval(R"("a\tb\u00e9")") == "a\tb\xc3\xa9");
    CHECK(eval("true") == true);
    CHECK(eval("null").is_null());
    CHECK(eval("[1, 'x', [true],]") == json::parse(R"([1, "x", [true]])"));
    CHECK(eval("{a: 1, 'b c': [2]}") == json::parse(R"({"a": 1, "b c": [2]})"));
}

TEST_CASE("expression: names read inputs, vars, steps, run, item, index and bare variables") {
    CHECK(eval("inputs.env") == "prod");
    CHECK(eval("input.count") == 3);
    CHECK(eval("vars.region") == "eu");
    CHECK(eval("steps.build.output.version") == "1.2.3");
    CHECK(eval("steps.build.status") == "succeeded");
    CHECK(eval("steps.check-disk.output.free") == 42);
    CHECK(eval("steps['check-disk'].output['free']") == 42);
    CHECK(eval("run.id") == "run-1");
    CHECK(eval("item.host") == "web1");
    CHECK(eval("index") == 2);
    CHECK(eval("deployPlan.target") == "green");
    CHECK(eval("steps.build.output.files[-1]") == 3);
    CHECK(eval("steps.build.output.files[7]").is_null());
    CHECK(eval("steps.missing.output.x").is_null());
    CHECK(eval("nothing").is_null());
}

TEST_CASE("expression: operators follow the usual precedence") {
    CHECK(eval("1 + 2 * 3") == 7);
    CHECK(eval("(1 + 2) * 3") == 9);
    CHECK(eval("10 - 4 - 3") == 3);
    CHECK(eval("7 / 2") == 3.5);
    CHECK(eval("8 / 2") == 4);
    CHECK(eval("7 % 3") == 1);
    CHECK(eval("-inputs.count + 1") == -2);
    CHECK(eval("!inputs.flag && inputs.count > 2") == true);
    CHECK(eval("inputs.count > 5 || vars.region == 'eu'") == true);
    CHECK(eval("1 + 1 == 2 && 3 < 4") == true);
    CHECK(eval("inputs.env == 'prod' ? 'p' : 'other'") == "p");
    CHECK(eval("false ? 1 : true ? 2 : 3") == 2);
    CHECK(eval("inputs.missing ?? 'dflt'") == "dflt");
    CHECK(eval("inputs.flag ?? 'dflt'") == false);
    CHECK(eval("'a' in inputs.names") == true);
    CHECK(eval("'env' in inputs") == true);
    CHECK(eval("'ro' in 'prod'") == true);
    CHECK(eval("inputs.count >= 3 && inputs.count <= 3") == true);
}

TEST_CASE("expression: numbers compare by value and strings concatenate") {
    CHECK(eval("5 == 5.0") == true);
    CHECK(eval("vars.limit == 5") == true);
    CHECK(eval("vars.limit > 4") == true);
    CHECK(eval("'v' + steps.build.output.version") == "v1.2.3");
    CHECK(eval("'n=' + 3") == "n=3");
    CHECK(eval("[1] + [2]") == json::parse("[1, 2]"));
    CHECK(eval("{a: 1} + {b: 2}") == json::parse(R"({"a": 1, "b": 2})"));
    CHECK(eval("'abc' < 'abd'") == true);
    CHECK(eval("9223372036854775807 + 1") == 9223372036854775808.0);
}

TEST_CASE("expression: && and || return an operand, like JavaScript") {
    CHECK(eval("inputs.missing || 'fallback'") == "fallback");
    CHECK(eval("inputs.env && inputs.count") == 3);
    CHECK(eval("'' || 0") == 0);
}

TEST_CASE("expression: functions") {
    CHECK(eval("len('héllo')") == 5);
    CHECK(eval("len(inputs.names)") == 2);
    CHECK(eval("contains(inputs.names, 'b')") == true);
    CHECK(eval("contains('hello', 'ell')") == true);
    CHECK(eval("starts_with(inputs.env, 'pr')") == true);
    CHECK(eval("ends_with(inputs.env, 'od')") == true);
    CHECK(eval("upper(inputs.env)") == "PROD");
    CHECK(eval("lower('MiXed')") == "mixed");
    CHECK(eval("join(inputs.names, '+')") == "a+b");
    CHECK(eval("join([1, 'x', null])") == "1,x,null");
    CHECK(eval("split('a,b,,c')") == json::parse(R"(["a", "b", "", "c"])"));
    CHECK(eval("split('a::b', '::')") == json::parse(R"(["a", "b"])"));
    CHECK(eval("to_json({a: [1, true]})") == R"({"a":[1,true]})");
    CHECK(eval("from_json('{\"x\": [1, 2]}').x[1]") == 2);
    CHECK(eval("default(inputs.missing, 7)") == 7);
    CHECK(eval("default('', 'empty')") == "empty");
    CHECK(eval("default(inputs.env, 'x')") == "prod");
}

TEST_CASE("expression: syntax errors name the column and a fix") {
    using Catch::Matchers::Contains;
    CHECK_THAT(error_of("1 +"), Contains("column 4") && Contains("expected a value") && Contains("incomplete"));
    CHECK_THAT(error_of("a = 1"), Contains("column 3") && Contains("use == to compare"));
    CHECK_THAT(error_of("a === 1"), Contains("use =="));
    CHECK_THAT(error_of("a & b"), Contains("use &&"));
    CHECK_THAT(error_of("(1 + 2"), Contains("expected \")\"") && Contains("opened at column 1"));
    CHECK_THAT(error_of("'abc"), Contains("unterminated string"));
    CHECK_THAT(error_of("lenn(x)"), Contains("unknown function \"lenn\"") && Contains("did you mean \"len\"?"));
    CHECK_THAT(error_of("len(1, 2)"), Contains("len() takes 1 argument, got 2"));
    CHECK_THAT(error_of("a b"), Contains("column 3") && Contains("after a complete expression"));
    CHECK_THAT(error_of("a."), Contains("expected a name after \".\""));
    CHECK_THAT(error_of("{a: 1, a: 2}"), Contains("duplicate map key"));
    CHECK_THAT(error_of("'\\q'"), Contains("unknown escape"));
    CHECK_THAT(error_of("1x"), Contains("malformed number"));
    CHECK_THAT(error_of("a # b"), Contains("unexpected character \"#\""));
}

TEST_CASE("expression: evaluation errors say what had the wrong type") {
    using Catch::Matchers::Contains;
    CHECK_THAT(error_of("inputs.count.x"), Contains("cannot read \".x\" of a number"));
    CHECK_THAT(error_of("1 / 0"), Contains("division by zero"));
    CHECK_THAT(error_of("5 % 0"), Contains("modulo by zero"));
    CHECK_THAT(error_of("[1] < 2"), Contains("cannot order a list and a number"));
    CHECK_THAT(error_of("-'x'"), Contains("cannot negate a string"));
    CHECK_THAT(error_of("[1] + 2"), Contains("cannot add a list and a number"));
    CHECK_THAT(error_of("upper(1)"), Contains("upper(): the argument must be a string"));
    CHECK_THAT(error_of("from_json('{')"), Contains("not valid JSON"));
    CHECK_THAT(error_of("inputs.names['x']"), Contains("a list is indexed by a number"));
}

TEST_CASE("expression: errors are core::error with kind invalid_input") {
    try {
        eval("1 +");
        FAIL("no error");
    } catch (const orbitmesh::core::error& e) {
        CHECK(e.kind() == orbitmesh::core::error_kind::invalid_input);
    }
}

TEST_CASE("expression: deep nesting is an error, not a crash") {
    using Catch::Matchers::Contains;
    CHECK_THAT(error_of(std::string(10'000, '(') + "1" + std::string(10'000, ')')), Contains("nests deeper than 128"));
    CHECK_THAT(error_of(std::string(10'000, '[')), Contains("nests deeper than 128"));
    CHECK_THAT(error_of(std::string(10'000, '!') + "true"), Contains("nests deeper than 128"));
    std::string chain = "1";
    for (int i = 0; i < 5000; ++i) chain += " + 1";
    CHECK_THAT(error_of(chain), Contains("too long a chain"));
    CHECK(eval(std::string(100, '(') + "1" + std::string(100, ')')) == 1);
}

TEST_CASE("expression: the evaluation budget stops runaway work") {
    using Catch::Matchers::Contains;
    // 1,100 copies of a 1,000-byte string pass 1 MiB: the join is refused, not built.
    std::string many = "join([";
    for (int i = 0; i < 1100; ++i) many += "kb,";
    many += "], '')";
    json ctx = {{"kb", std::string(1000, 'x')}};
    CHECK_THROWS_WITH(evaluate(parse_expression(many), ctx), Contains("exceeds the limit of 1048576 bytes"));
    orbitmesh::core::expression_limits small;
    small.max_steps = 50;
    std::string list = "[";
    for (int i = 0; i < 60; ++i) list += "1,";
    list += "]";
    CHECK_THROWS_WITH(evaluate(parse_expression(list, small), context, small), Contains("budget of 50 steps"));
    small = {};
    small.max_string = 16;
    CHECK_THROWS_WITH(evaluate(parse_expression("'0123456789' + '0123456789'", small), context, small),
                      Contains("exceeds the limit of 16 bytes"));
}

TEST_CASE("expression: referenced_steps lists the step ids an expression reads") {
    auto e = parse_expression("steps.build.output.x + steps['check-disk'].status + len(steps.test.output)");
    CHECK(orbitmesh::core::referenced_steps(e) == std::vector<std::string>{"build", "check-disk", "test"});
}
