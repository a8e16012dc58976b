#pragma once
#include <span>
#include <string_view>

namespace orbitmesh::store {

/// The event store's migrations, oldest first: step N brings `user_version` from N to N+1.
/// Append new steps; never edit a released one.
std::span<const std::string_view> event_store_migrations() noexcept;

}  // namespace orbitmesh::store
