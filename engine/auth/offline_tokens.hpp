#pragma once
#include <filesystem>
#include <string>

#include "core/json.hpp"
#include "engine/auth/token_mint.hpp"

namespace orbitmesh::engine::auth {

/// A hub's data dir as `token create --data-dir` finds it.
struct offline_store {
    std::filesystem::path data_dir;
    std::filesystem::path store_path;    // empty = DATA_DIR/orbitmesh.db
    std::filesystem::path jwt_key_file;  // the hub's --jwt-key (it must hold the private key), else the HS256 secret
    std::string store_url;               // postgres://…: the PostgreSQL store instead of store_path
};

/// `orbitmesh token create --data-dir DIR` (SPEC §8: the first admin token): signs with the data
/// dir's key (creating the HS256 secret when the hub never ran) and records token.created in its
/// store, with or without a hub running on it (a short WAL write the hub's writer waits out).
/// Answers what POST /api/v1/tokens answers. Throws core::error{usage|storage} naming the file.
core::json create_token_offline(const offline_store& where, const mint_request& r);

}  // namespace orbitmesh::engine::auth
