#pragma once

namespace orbitmesh::store::postgres {

/// Loads libpq (dlopen of libpq.so.5) if it is not loaded yet; throws core::error{unavailable}
/// naming the Debian package when it is missing. Every libpq function the store calls loads it
/// too; calling this first turns a missing library into one clear error before any connection.
void require_libpq();

}  // namespace orbitmesh::store::postgres
