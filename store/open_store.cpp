#include "store/open_backend.hpp"
#include "store/postgres/connection.hpp"

namespace orbitmesh::store {

// The one place that knows which backends exist.
std::unique_ptr<event_store> event_store::open(const options& opts) {
    if (!opts.url.empty()) {
        if (!postgres::is_postgres_url(opts.url))
            throw core::error{core::error_kind::usage, "--store " + postgres::redacted(opts.url) +
                                                           ": use sqlite://PATH or postgres://USER@HOST:PORT/DATABASE"};
        return open_postgres_store(opts);
    }
    return open_sqlite_store(opts);
}

}  // namespace orbitmesh::store
