#pragma once
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace orbitmesh::engine {

/// Where the values of a workflow's `secrets:` come from (SPEC §8): the file DIR/NAME of
/// `serve --secrets-dir DIR` (one trailing newline dropped), else the hub's environment variable
/// NAME. Read when asked, so a secret rotated on disk is used from the next job on. Values are
/// handed to jobs and to masks only: never logged, never stored. Thread-safe (no state).
class secret_store {
public:
    explicit secret_store(std::filesystem::path dir = {}) : dir_(std::move(dir)) {}

    /// The value of `name` (a valid secret name), or nullopt when neither source has it.
    /// Throws core::error{invalid_input} when DIR/NAME exists but cannot be read or is over 64 KiB.
    std::optional<std::string> value(const std::string& name) const;
    /// Every value of `names`. Throws core::error{invalid_input} naming the first one missing and
    /// where it was looked for.
    std::map<std::string, std::string> resolve(const std::vector<std::string>& names) const;

private:
    std::filesystem::path dir_;
};

}  // namespace orbitmesh::engine
