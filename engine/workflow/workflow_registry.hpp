#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/event.hpp"
#include "core/json.hpp"
#include "core/workflow.hpp"

namespace orbitmesh::engine {

/// One registered version of a workflow.
struct registered_workflow {
    std::string id;
    std::string version;  // the file's `version`, else the registration count
    std::string file;
    std::string source;
    std::int64_t registered_ms = 0;
    std::shared_ptr<const core::workflow> definition;
};

/// Workflows registered through `POST /api/v1/workflows`, folded from `workflow-<id>` streams.
/// Not thread-safe: lives on the hub strand with the runner.
class workflow_registry {
public:
    /// Result of check(): the event to commit (nullopt when the same source is registered).
    struct registration {
        registered_workflow entry;
        std::optional<core::event> event;
    };
    /// Validates `source` with the loader; throws core::error{invalid_input} whose message is the
    /// first error and fills `diagnostics` (JSON list) when the definition is invalid.
    registration check(const std::string& source, const std::string& file, core::json& diagnostics) const;
    /// check() for a file on disk (`serve --workflows`); throws core::error{invalid_input} with
    /// `PATH:LINE: message` for the first error, and for a file it cannot read. The entry's `file`
    /// is the file name, as `workflow register` sends it; commit `event` (if any) the way the
    /// HTTP route does before applying it elsewhere.
    registration check_file(const std::filesystem::path& path) const;
    /// Folds a `workflow.registered` event (live after commit, and on replay).
    void apply(const core::event& e);
    /// The newest version of `id` (or exactly `version` when given), or nullptr.
    const registered_workflow* find(const std::string& id, const std::string& version = {}) const;
    std::vector<const registered_workflow*> latest() const;

    /// `{id, name, version, steps, registered_at}` (+ `source` when asked).
    static core::json summary(const registered_workflow& w, bool with_source);

private:
    registration entry_for(core::workflow wf, const std::string& source, const std::string& file) const;

    std::map<std::string, std::vector<registered_workflow>> by_id_;
};

/// The workflow files of `serve --workflows DIR`: `*.yaml`, `*.yml` and `*.json` directly in
/// `dir`, sorted by name. Throws core::error{usage} when `dir` is not a readable directory.
std::vector<std::filesystem::path> workflow_files(const std::filesystem::path& dir);

/// Parses a definition that was valid when recorded; throws core::error{invalid_input} otherwise.
std::shared_ptr<const core::workflow> parse_definition(const std::string& source, const std::string& file);

}  // namespace orbitmesh::engine
