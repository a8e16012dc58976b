#include "cli/store_flag.hpp"

#include "core/error.hpp"
#include "store/store_url.hpp"

namespace orbitmesh::cli {

store_choice parse_store_flag(const std::string& value) {
    store_choice c;
    if (value.empty()) return c;
    if (store::is_postgres_url(value)) {
        store::check_postgres_url(value);
        c.url = value;
        return c;
    }
    if (value.rfind("sqlite://", 0) != 0 || value.size() == 9)
        throw core::error(core::error_kind::usage, "--store " + store::redacted_url(value) +
                                                       ": use sqlite://PATH or postgres://USER@HOST:PORT/DATABASE");
    c.sqlite_path = value.substr(9);
    return c;
}

}  // namespace orbitmesh::cli
