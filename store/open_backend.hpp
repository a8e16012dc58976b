#pragma once
#include <memory>

#include "store/event_store.hpp"

namespace orbitmesh::store {

/// The backends event_store::open chooses between (store-internal).
std::unique_ptr<event_store> open_sqlite_store(const event_store::options& opts);
std::unique_ptr<event_store> open_postgres_store(const event_store::options& opts);

}  // namespace orbitmesh::store
