#include "engine/workflow/workflow_registry.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "engine/workflow/loader.hpp"

namespace orbitmesh::engine {

std::shared_ptr<const core::workflow> parse_definition(const std::string& source, const std::string& file) {
    return std::make_shared<const core::workflow>(load_workflow_text(source, file.empty() ? "workflow.yaml" : file));
}

namespace {

const core::diagnostic& first_error(const workflow_check& c) {
    return *std::find_if(c.diagnostics.begin(), c.diagnostics.end(),
                         [](const core::diagnostic& d) { return d.level == core::severity::error; });
}

/// The source as the API may show it: a webhook trigger's literal HMAC key is replaced by *** on
/// every line that mentions a secret (SPEC §8: secrets are never returned by the API).
std::string redacted_source(const registered_workflow& w) {
    std::vector<std::string> keys;
    for (const auto& t : w.definition->triggers)
        if (t.type == core::trigger_type::webhook && !t.secret.empty()) keys.push_back(t.secret);
    if (keys.empty()) return w.source;
    std::string out;
    std::istringstream in(w.source);
    std::string line;
    bool first = true;
    while (std::getline(in, line)) {
        if (line.find("secret") != std::string::npos)
            for (const auto& k : keys)
                for (auto at = line.find(k); at != std::string::npos; at = line.find(k, at + 3)) line.replace(at, k.size(), "***");
        out += (first ? "" : "\n") + line;
        first = false;
    }
    if (!w.source.empty() && w.source.back() == '\n') out += '\n';
    return out;
}

// `FILE:LINE: message (hint)`: the line an operator reads when `serve --workflows` refuses a file.
std::string located(const core::diagnostic& d, std::size_t more) {
    std::string out = d.file;
    if (d.line > 0) out += ":" + std::to_string(d.line);
    out += ": " + d.message;
    if (!d.hint.empty()) out += " (" + d.hint + ")";
    if (more > 0)
        out += " (and " + std::to_string(more) + " more error" + (more == 1 ? "" : "s") +
               "; run `orbitmesh workflow validate` to see them all)";
    return out;
}

std::string read_text(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    if (in) text << in.rdbuf();
    if (!in || in.bad())
        throw core::error(core::error_kind::invalid_input,
                          path.string() + ": cannot read the workflow file: " + std::strerror(errno));
    return text.str();
}

bool is_workflow_file(const std::filesystem::directory_entry& e) {
    auto ext = e.path().extension().string();
    std::error_code ec;  // a dangling link is listed, so reading it reports the problem
    return (ext == ".yaml" || ext == ".yml" || ext == ".json") && !e.is_directory(ec);
}

}  // namespace

workflow_registry::registration workflow_registry::check(const std::string& source, const std::string& file,
                                                         core::json& diagnostics) const {
    auto name = file.empty() ? std::string("workflow.yaml") : file;
    auto result = check_workflow_text(source, name);
    diagnostics = core::json::array();
    for (const auto& d : result.diagnostics)
        if (d.level == core::severity::error) diagnostics.push_back(core::to_json(d));
    if (!result.ok())
        throw core::error(core::error_kind::invalid_input,
                          "workflow " + name + " is not valid: " + core::format(first_error(result)));
    return entry_for(std::move(result.workflow), source, name);
}

workflow_registry::registration workflow_registry::check_file(const std::filesystem::path& path) const {
    auto source = read_text(path);
    auto result = check_workflow_text(source, path.string());
    if (!result.ok()) throw core::error(core::error_kind::invalid_input, located(first_error(result), result.errors() - 1));
    return entry_for(std::move(result.workflow), source, path.filename().string());
}

workflow_registry::registration workflow_registry::entry_for(core::workflow wf, const std::string& source,
                                                             const std::string& file) const {
    registration out;
    auto& e = out.entry;
    e.id = wf.id;
    e.file = file;
    e.source = source;
    wf.source_file = file;
    e.definition = std::make_shared<const core::workflow>(std::move(wf));
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
    if (with_source) j["source"] = redacted_source(w);
    return j;
}

std::vector<std::filesystem::path> workflow_files(const std::filesystem::path& dir) {
    std::error_code ec;
    std::vector<std::filesystem::path> out;
    std::filesystem::directory_iterator it(dir, ec), end;
    for (; !ec && it != end; it.increment(ec))
        if (is_workflow_file(*it)) out.push_back(it->path());
    if (ec)
        throw core::error(core::error_kind::usage, "--workflows " + dir.string() + ": cannot read the directory: " +
                                                       ec.message() + " (give a directory of workflow files)");
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace orbitmesh::engine
