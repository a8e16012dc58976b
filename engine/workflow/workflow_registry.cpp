#include "engine/workflow/workflow_registry.hpp"

#include "core/clock.hpp"
#include "core/error.hpp"
#include "engine/workflow/loader.hpp"

namespace orbitmesh::engine {

std::shared_ptr<const core::workflow> parse_definition(const std::string& source, const std::string& file) {
    return std::make_shared<const core::workflow>(load_workflow_text(source, file.empty() ? "workflow.yaml" : file));
}

workflow_registry::registration workflow_registry::check(const std::string& source, const std::string& file,
                                                         core::json& diagnostics) const {
    auto name = file.empty() ? std::string("workflow.yaml") : file;
    auto result = check_workflow_text(source, name);
    diagnostics = core::json::array();
    for (const auto& d : result.diagnostics)
        if (d.level == core::severity::error) diagnostics.push_back(core::to_json(d));
    if (!result.ok()) {
        std::string first;
        for (const auto& d : result.diagnostics)
            if (d.level == core::severity::error && first.empty()) first = core::format(d);
        throw core::error(core::error_kind::invalid_input, "workflow " + name + " is not valid: " + first);
    }
    registration out;
    auto& e = out.entry;
    e.id = result.workflow.id;
    e.file = name;
    e.source = source;
    e.definition = std::make_shared<const core::workflow>(std::move(result.workflow));
    std::int64_t stream_version = 0;
    if (auto it = by_id_.find(e.id); it != by_id_.end()) {
        stream_version = static_cast<std::int64_t>(it->second.size());
        for (const auto& old : it->second)
            if (old.source == source) {
                out.entry = old;
                return out;
            }
    }
    e.version = e.definition->version.empty() ? std::to_string(stream_version + 1) : e.definition->version;
    e.registered_ms = core::now_ms();
    core::event ev;
    ev.stream = "workflow-" + e.id;
    ev.version = stream_version + 1;
    ev.type = "workflow.registered";
    ev.data = {{"id", e.id}, {"version", e.version}, {"file", e.file}, {"source", source}};
    ev.time_ms = e.registered_ms;
    out.event = std::move(ev);
    return out;
}

void workflow_registry::apply(const core::event& e) {
    if (e.type != "workflow.registered") return;
    registered_workflow w;
    w.id = e.data.value("id", std::string{});
    w.version = e.data.value("version", std::string{});
    w.file = e.data.value("file", std::string{});
    w.source = e.data.value("source", std::string{});
    w.registered_ms = e.time_ms;
    w.definition = parse_definition(w.source, w.file);
    by_id_[w.id].push_back(std::move(w));
}

const registered_workflow* workflow_registry::find(const std::string& id, const std::string& version) const {
    auto it = by_id_.find(id);
    if (it == by_id_.end() || it->second.empty()) return nullptr;
    if (version.empty()) return &it->second.back();
    for (auto v = it->second.rbegin(); v != it->second.rend(); ++v)
        if (v->version == version) return &*v;
    return nullptr;
}

std::vector<const registered_workflow*> workflow_registry::latest() const {
    std::vector<const registered_workflow*> out;
    for (const auto& [id, versions] : by_id_)
        if (!versions.empty()) out.push_back(&versions.back());
    return out;
}

core::json workflow_registry::summary(const registered_workflow& w, bool with_source) {
    const auto& d = *w.definition;
    core::json j{{"id", w.id},
                 {"name", d.name.empty() ? w.id : d.name},
                 {"version", w.version},
                 {"description", d.description},
                 {"file", w.file},
                 {"steps", core::count_steps(d.steps)},
                 {"registered_at", core::format_time(w.registered_ms)}};
    if (with_source) j["source"] = w.source;
    return j;
}

}  // namespace orbitmesh::engine
