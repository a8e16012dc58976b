#pragma once
#include <filesystem>
#include <string>

namespace orbitmesh::cli {

/// What `--store URL` selects (SPEC §1): `sqlite://PATH` (empty path: the data dir's file) or a
/// PostgreSQL URL (`postgres://…`, `postgresql://…`, checked for syntax here, not connected).
struct store_choice {
    std::filesystem::path sqlite_path;  // empty: DATA_DIR/orbitmesh.db
    std::string url;                    // the PostgreSQL URL, or empty
};

/// Parses the flag's value ("" = the default). Throws core::error{usage} naming both forms.
store_choice parse_store_flag(const std::string& value);

}  // namespace orbitmesh::cli
