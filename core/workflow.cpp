#include "core/workflow.hpp"

namespace orbitmesh::core {

namespace {

struct type_name {
    std::string_view name;
    step_type type;
};

// Canonical names first, then the original format's aliases (SPEC §4).
constexpr type_name step_type_table[] = {
    {"job", step_type::job},
    {"parallel", step_type::parallel},
    {"conditional", step_type::conditional},
    {"foreach", step_type::foreach},
    {"delay", step_type::delay},
    {"wait_for_event", step_type::wait_for_event},
    {"approval", step_type::approval},
    {"sub_workflow", step_type::sub_workflow},
    {"transform", step_type::transform},
    {"notify", step_type::notify},
    {"script", step_type::script},
    {"http", step_type::http},
    {"if", step_type::conditional},
    {"wait", step_type::delay},
    {"event", step_type::wait_for_event},
    {"workflow", step_type::sub_workflow},
    {"loop", step_type::foreach},
    {"map", step_type::transform},
    {"approve", step_type::approval},
    {"notification", step_type::notify},
};

}  // namespace

std::string_view to_string(step_type t) noexcept {
    for (const auto& e : step_type_table)
        if (e.type == t) return e.name;
    return "job";
}

std::optional<step_type> parse_step_type(std::string_view s) noexcept {
    for (const auto& e : step_type_table)
        if (e.name == s) return e.type;
    return std::nullopt;
}

std::vector<std::string_view> step_type_names() {
    std::vector<std::string_view> out;
    for (const auto& e : step_type_table) out.push_back(e.name);
    return out;
}

std::string_view to_string(trigger_type t) noexcept {
    switch (t) {
    case trigger_type::schedule: return "schedule";
    case trigger_type::webhook: return "webhook";
    case trigger_type::event: return "event";
    default: return "manual";
    }
}

std::optional<trigger_type> parse_trigger_type(std::string_view s) noexcept {
    if (s == "manual") return trigger_type::manual;
    if (s == "schedule") return trigger_type::schedule;
    if (s == "webhook") return trigger_type::webhook;
    if (s == "event") return trigger_type::event;
    return std::nullopt;
}

std::string_view to_string(error_strategy s) noexcept {
    return s == error_strategy::stop ? "stop" : "continue";
}

int workflow_step::line_of(std::string_view key) const {
    auto it = key_pos.find(key);
    return it != key_pos.end() ? it->second.line : pos.line;
}

std::vector<const step_list*> child_lists(const workflow_step& s) {
    if (const auto* p = std::get_if<parallel_step>(&s.config)) return {&p->branches};
    if (const auto* c = std::get_if<conditional_step>(&s.config)) return {&c->then_steps, &c->else_steps};
    if (const auto* f = std::get_if<foreach_step>(&s.config)) return {&f->steps};
    return {};
}

void for_each_step(const step_list& steps, const std::function<void(const workflow_step&)>& fn) {
    for (const auto& s : steps) {
        fn(s);
        for (const auto* list : child_lists(s)) for_each_step(*list, fn);
    }
}

std::size_t count_steps(const step_list& steps) {
    std::size_t n = 0;
    for_each_step(steps, [&n](const workflow_step&) { ++n; });
    return n;
}

const workflow_step* find_step(const step_list& steps, std::string_view id) {
    const workflow_step* found = nullptr;
    for_each_step(steps, [&](const workflow_step& s) {
        if (found == nullptr && s.id == id) found = &s;
    });
    return found;
}

}  // namespace orbitmesh::core
