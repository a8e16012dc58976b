#include "engine/workflow/loader.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/error.hpp"
#include "engine/workflow/build_context.hpp"
#include "engine/workflow/json_reader.hpp"
#include "engine/workflow/original_dialect.hpp"
#include "engine/workflow/original_literals.hpp"
#include "engine/workflow/workflow_builder.hpp"
#include "engine/workflow/yaml_reader.hpp"

namespace orbitmesh::engine {

namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool looks_like_json(std::string_view text, const std::string& file, workflow_format format) {
    if (format != workflow_format::detect) return format == workflow_format::json;
    if (ends_with(file, ".json")) return true;
    if (ends_with(file, ".yaml") || ends_with(file, ".yml")) return false;
    const auto first = text.find_first_not_of(" \t\r\n");
    return first != std::string_view::npos && text[first] == '{';
}

std::string default_id(const std::string& file) {
    std::string stem = std::filesystem::path(file).stem().string();
    return stem.empty() ? std::string("workflow") : stem;
}

// Reads at most `max_bytes` + 1 so an oversized file is refused without reading it all.
std::optional<std::string> read_file(const std::string& path, std::size_t max_bytes, diagnostics_sink& sink) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        sink.error({0, 0}, "cannot open the workflow file: " + std::string(std::strerror(errno)), "check the path");
        return std::nullopt;
    }
    std::string text;
    text.resize(max_bytes + 1);
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    if (in.bad()) {
        sink.error({0, 0}, "cannot read the workflow file: " + std::string(std::strerror(errno)));
        return std::nullopt;
    }
    text.resize(static_cast<std::size_t>(in.gcount()));
    if (text.size() > max_bytes) {
        sink.error({0, 0}, "workflow file is larger than " + std::to_string(max_bytes) + " bytes",
                   "split it into sub-workflows");
        return std::nullopt;
    }
    return text;
}

void sort_by_line(std::vector<core::diagnostic>& list) {
    std::stable_sort(list.begin(), list.end(), [](const core::diagnostic& a, const core::diagnostic& b) {
        return a.line != b.line ? a.line < b.line : a.column < b.column;
    });
}

[[noreturn]] void throw_first_error(const workflow_check& c) {
    auto first = std::find_if(c.diagnostics.begin(), c.diagnostics.end(),
                              [](const core::diagnostic& d) { return d.level == core::severity::error; });
    std::string message = core::format(*first);
    const std::size_t more = c.errors() - 1;
    if (more > 0)
        message += " (and " + std::to_string(more) + " more error" + (more == 1 ? "" : "s") +
                   "; run `orbitmesh workflow validate` to see them all)";
    throw core::error(core::error_kind::invalid_input, message);
}

}  // namespace

workflow_check check_workflow_text(std::string_view text, const std::string& file, const load_options& options) {
    workflow_check result;
    diagnostics_sink sink(file);
    if (text.size() > options.limits.max_bytes) {
        sink.error({0, 0}, "workflow file is larger than " + std::to_string(options.limits.max_bytes) + " bytes",
                   "split it into sub-workflows");
        result.diagnostics = std::move(sink.list());
        return result;
    }
    if (text.rfind("\xEF\xBB\xBF", 0) == 0) text.remove_prefix(3);  // UTF-8 byte order mark
    try {
        const bool json = looks_like_json(text, file, options.format);
        const source_node root = json ? read_json(text, options.limits) : read_yaml(text, options.limits);
        result.parsed = true;
        auto original = detect_original_dialect(root, text, sink);
        sink.set_original_dialect(!original.empty());
        result.workflow = build_workflow(root, sink, default_id(file));
        result.workflow.source_file = file;
        result.workflow.original_dialect = original;
        if (!original.empty()) apply_original_dialect(result.workflow, sink);
        else warn_original_literals(root, sink);
    } catch (const source_error& e) {
        sink.error(e.pos(), e.what(), e.hint());
    }
    if (result.parsed)
        for (auto& d : validate(result.workflow)) sink.add(std::move(d));
    result.diagnostics = std::move(sink.list());
    sort_by_line(result.diagnostics);
    return result;
}

workflow_check check_workflow_file(const std::string& path, const load_options& options) {
    diagnostics_sink sink(path);
    auto text = read_file(path, options.limits.max_bytes, sink);
    if (!text) {
        workflow_check failed;
        failed.diagnostics = std::move(sink.list());
        return failed;
    }
    return check_workflow_text(*text, path, options);
}

core::workflow load_workflow_file(const std::string& path, const load_options& options) {
    workflow_check c = check_workflow_file(path, options);
    if (!c.ok()) throw_first_error(c);
    return std::move(c.workflow);
}

core::workflow load_workflow_text(std::string_view text, const std::string& file, const load_options& options) {
    workflow_check c = check_workflow_text(text, file, options);
    if (!c.ok()) throw_first_error(c);
    return std::move(c.workflow);
}

}  // namespace orbitmesh::engine
