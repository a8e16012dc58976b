#pragma once
#include <filesystem>
#include <memory>

#include "engine/auth/jwt.hpp"

namespace orbitmesh::engine::auth {

/// Where the HS256 secret lives in a data dir.
inline constexpr const char* secret_file_name = "jwt-secret";

/// The hub's token key. With `jwt_key_file`: that PEM file (RS256 or ES256 by its key type).
/// Without: the HS256 secret in DATA_DIR/jwt-secret, made from 32 random bytes with mode 0600 when
/// it does not exist yet. `serve` and `token create --data-dir` both call this, so whichever runs
/// first creates the secret (atomically: a race leaves one) and both then sign with the same one.
/// Throws core::error{usage} naming the file for one that cannot be read or made, that is not a
/// key, or a secret other users can read.
std::shared_ptr<const jwt_key> load_hub_key(const std::filesystem::path& data_dir,
                                            const std::filesystem::path& jwt_key_file);

}  // namespace orbitmesh::engine::auth
