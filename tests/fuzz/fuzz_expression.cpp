// libFuzzer target: the expression language (SPEC §12: expression abuse). The bytes are parsed as
// a bare expression, as an expression field and as a template, and whatever parses is evaluated
// against a small context under the default budget. The only allowed failure is a core::error.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/error.hpp"
#include "core/expression.hpp"
#include "core/expression_template.hpp"

namespace {

const orbitmesh::core::json& context() {
    static const auto ctx = orbitmesh::core::json::parse(R"({
      "inputs": {"x": 1, "s": "text", "l": [1, 2, 3], "m": {"k": "v"}},
      "vars": {"x": 2.5}, "steps": {"a": {"output": {"n": [1, {"z": null}]}, "status": "succeeded"}},
      "run": {"id": "r"}, "item": "it", "index": 0})");
    return ctx;
}

template <class Fn>
void allowed_to_fail(Fn fn) {
    try {
        fn();
    } catch (const orbitmesh::core::error&) {
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace orbitmesh::core;
    std::string_view text(reinterpret_cast<const char*>(data), size);
    allowed_to_fail([&] {
        auto e = parse_expression(text);
        referenced_steps(e);
        evaluate(e, context());
    });
    allowed_to_fail([&] { evaluate(parse_expression_field(text), context()); });
    allowed_to_fail([&] {
        check_template(text);
        interpolate(json(std::string(text)), context());
    });
    return 0;
}
