#include <catch2/catch.hpp>

#include "core/expression_template.hpp"

using namespace orbitmesh::core;
using Catch::Matchers::Contains;

namespace {
const json context = json::parse(R"({
  "inputs": {"env": "prod", "count": 3, "tags": ["a", "b"]},
  "steps": {"build": {"output": {"version": "1.2.3"}}}
})");
}

TEST_CASE("template: a whole-string ${{ x }} keeps x's type") {
    CHECK(interpolate("${{ inputs.count }}", context) == 3);
    CHECK(interpolate("${{ inputs.tags }}", context) == json::parse(R"(["a", "b"])"));
    CHECK(interpolate("${{inputs.count > 2}}", context) == true);
}

TEST_CASE("template: inside text values are stringified") {
    CHECK(interpolate("v${{ steps.build.output.version }}-${{ inputs.count }}", context) == "v1.2.3-3");
    CHECK(interpolate("tags=${{ inputs.tags }}", context) == R"(tags=["a","b"])");
    CHECK(interpolate("x=${{ inputs.none }}", context) == "x=null");
    CHECK(interpolate(" ${{ inputs.count }}", context) == " 3");
}

TEST_CASE("template: maps and lists are walked recursively, keys stay as written") {
    json payload = json::parse(R"({"script": "deploy ${{ inputs.env }}", "args": ["${{ inputs.count }}", 7],
                                   "${{ inputs.env }}": {"n": "${{ inputs.count + 1 }}"}})");
    json out = interpolate(payload, context);
    CHECK(out["script"] == "deploy prod");
    CHECK(out["args"] == json::parse(R"([3, 7])"));
    CHECK(out["${{ inputs.env }}"]["n"] == 4);
}

TEST_CASE("template: the shell's ${VAR} is left alone and $${{ writes a literal ${{") {
    CHECK(interpolate("echo ${HOME} $USER", context) == "echo ${HOME} $USER");
    CHECK(interpolate("echo $${{ not.evaluated }}", context) == "echo ${{ not.evaluated }}");
    CHECK(interpolate("$${{ x }} ${{ inputs.env }}", context) == "${{ x }} prod");
    CHECK_FALSE(has_expressions("echo $${{ x }}"));
    CHECK(has_expressions("echo ${{ x }}"));
}

TEST_CASE("template: }} inside strings and maps does not end the expression") {
    CHECK(interpolate("${{ '}}' }}", context) == "}}");
    CHECK(interpolate("${{ {a: {b: 1}}.a.b }}", context) == 1);
}

TEST_CASE("template: check_template reports the column in the whole string") {
    auto d = check_template("echo ${{ inputs.x + }} done");
    REQUIRE(d);
    CHECK(d->column == 21);  // where the missing value should be: the closing }}
    CHECK_THAT(d->message, Contains("expected a value"));
    auto unterminated = check_template("a ${{ inputs.x");
    REQUIRE(unterminated);
    CHECK(unterminated->column == 3);
    CHECK_THAT(unterminated->message, Contains("never closed"));
    CHECK_FALSE(check_template("plain ${HOME} text ${{ inputs.env }}"));
}

TEST_CASE("template: expression fields take bare text, ${{ }} or the original ${ }") {
    CHECK(evaluate(parse_expression_field("inputs.count > 2"), context) == true);
    CHECK(evaluate(parse_expression_field("${{ inputs.count > 2 }}"), context) == true);
    CHECK(evaluate(parse_expression_field("${inputs.env != null && inputs.env != ''}"), context) == true);
    CHECK(evaluate(parse_expression_field("${inputs.count} == 3"), context) == true);
    CHECK(evaluate(parse_expression_field("${{ inputs.count }} + 1"), context) == 4);
    auto d = check_expression_field("${{ inputs.count >> 2 }}");
    REQUIRE(d);
    CHECK(d->column == 19);  // the second ">"
    CHECK_THAT(check_expression_field("${ inputs.x")->message, Contains("never closed"));
}
