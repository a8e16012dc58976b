#pragma once
#include <filesystem>
#include <string>

namespace orbitmesh::engine::agent {

/// The agent's persistent id from `data_dir/agent_id`, created (with core::new_id) on first use
/// and reused afterwards, so a restarted agent is the same agent to the hub. Creates data_dir.
/// Throws core::error{storage} naming the file when it cannot be read or written.
std::string load_or_create_agent_id(const std::filesystem::path& data_dir);

}  // namespace orbitmesh::engine::agent
