#include "core/workflow_inputs.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.hpp"
#include "core/workflow_suggest.hpp"

namespace orbitmesh::core {

namespace {

// `--input count=3` gives "3": convert text to the parameter's type when it reads as one.
json coerce(const std::string& type, const json& v) {
    if (!v.is_string() || type == "string" || type == "datetime") return v;
    const auto& s = v.get_ref<const std::string&>();
    if (type == "boolean") {
        if (s == "true") return true;
        if (s == "false") return false;
        return v;
    }
    try {
        json parsed = json::parse(s);
        return input_value_matches(type, parsed) ? parsed : v;
    } catch (const json::exception&) {
        return v;
    }
}

std::string check_param(const input_param& p, json& value) {
    value = coerce(p.type, value);
    if (!input_value_matches(p.type, value))
        return "input \"" + p.name + "\" must be " + p.type + ", got " + value.dump(-1, ' ', false, json::error_handler_t::replace);
    if (p.allowed_values.empty()) return {};
    for (const auto& a : p.allowed_values)
        if (a == value) return {};
    std::string allowed;
    for (const auto& a : p.allowed_values) allowed += (allowed.empty() ? "" : ", ") + a.dump(-1, ' ', false, json::error_handler_t::replace);
    return "input \"" + p.name + "\" is " + value.dump(-1, ' ', false, json::error_handler_t::replace) + " but must be one of " + allowed;
}

}  // namespace

std::optional<std::string> canonical_input_type(std::string_view n) {
    if (n == "string" || n == "text") return "string";
    if (n == "integer" || n == "int") return "integer";
    if (n == "number" || n == "float" || n == "double") return "number";
    if (n == "boolean" || n == "bool") return "boolean";
    if (n == "array" || n == "list") return "array";
    if (n == "object" || n == "map") return "object";
    if (n == "datetime" || n == "date" || n == "timestamp") return "datetime";
    return std::nullopt;
}

bool input_value_matches(std::string_view type, const json& v) {
    if (type == "string" || type == "datetime") return v.is_string();
    if (type == "integer") {
        if (v.is_number_integer()) return true;
        return v.is_number_float() && std::trunc(v.get<double>()) == v.get<double>();
    }
    if (type == "number") return v.is_number();
    if (type == "boolean") return v.is_boolean();
    if (type == "array") return v.is_array();
    if (type == "object") return v.is_object();
    return false;
}

json resolve_inputs(const workflow& wf, const json& given) {
    if (!given.is_null() && !given.is_object())
        throw error(error_kind::invalid_input, "workflow \"" + wf.id + "\": inputs must be a JSON object");
    json out = given.is_null() ? json::object() : given;
    if (wf.inputs.empty()) return out;
    std::vector<std::string> problems;
    std::vector<std::string_view> names;
    for (const auto& p : wf.inputs) {
        names.push_back(p.name);
        if (!out.contains(p.name)) {
            if (p.default_value) out[p.name] = *p.default_value;
            else if (p.required) problems.push_back("input \"" + p.name + "\" is required");
            continue;
        }
        if (auto problem = check_param(p, out[p.name]); !problem.empty()) problems.push_back(std::move(problem));
    }
    for (auto it = out.begin(); it != out.end(); ++it) {
        if (std::find(names.begin(), names.end(), it.key()) != names.end()) continue;
        std::string hint = did_you_mean(it.key(), names);
        problems.push_back("unknown input \"" + it.key() + "\"" + (hint.empty() ? "" : " (" + hint + ")"));
    }
    if (problems.empty()) return out;
    std::string message = "workflow \"" + wf.id + "\": ";
    for (std::size_t i = 0; i < problems.size(); ++i) message += (i ? "; " : "") + problems[i];
    throw error(error_kind::invalid_input, message);
}

}  // namespace orbitmesh::core
