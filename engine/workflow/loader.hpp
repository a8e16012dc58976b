#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/workflow.hpp"
#include "core/workflow_diagnostic.hpp"
#include "engine/workflow/source_node.hpp"

namespace orbitmesh::engine {

enum class workflow_format { detect, yaml, json };

struct load_options {
    reader_limits limits;
    workflow_format format = workflow_format::detect;  // detect: by extension, then by content
};

/// A workflow as far as it could be read, with every problem found in it.
struct workflow_check {
    core::workflow workflow;                    // best effort; complete only when ok()
    std::vector<core::diagnostic> diagnostics;  // errors and warnings, in file order
    bool parsed = false;                        // the file was read as YAML/JSON at all

    std::size_t errors() const noexcept { return core::count(diagnostics, core::severity::error); }
    std::size_t warnings() const noexcept { return core::count(diagnostics, core::severity::warning); }
    bool ok() const noexcept { return errors() == 0; }
};

/// Reads and validates a workflow file (`workflow validate`): YAML or JSON, original keys and
/// aliases accepted, every problem reported at once with file:line. Never throws for bad
/// content; I/O failures become diagnostics too.
workflow_check check_workflow_file(const std::string& path, const load_options& options = {});
/// The same for text already in memory; `file` names it in diagnostics and gives the default id.
workflow_check check_workflow_text(std::string_view text, const std::string& file, const load_options& options = {});

/// Checks a model built elsewhere: dependencies (unknown, with "did you mean"), duplicate ids,
/// cycles (with their path) and expressions that read unknown steps. Thread-safe, pure.
std::vector<core::diagnostic> validate(const core::workflow& wf);

/// For `serve --workflows` and `run`: loads a file that must be valid. Throws
/// core::error{invalid_input} whose message is the first error (`FILE:LINE: …`) and the count
/// of the others; warnings are not errors.
core::workflow load_workflow_file(const std::string& path, const load_options& options = {});
core::workflow load_workflow_text(std::string_view text, const std::string& file, const load_options& options = {});

}  // namespace orbitmesh::engine
