#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <libpq-fe.h>

#include "core/error.hpp"

namespace orbitmesh::store::postgres {

/// True for the URLs that select the PostgreSQL store: `postgres://…` and `postgresql://…`.
bool is_postgres_url(std::string_view url) noexcept;

/// The URL with its password replaced by `***`, for messages and logs.
std::string redacted(std::string_view url);

/// Checks the URL's syntax without connecting; throws core::error{usage} naming what is wrong.
void check_url(std::string_view url);

/// A PostgreSQL array literal of text elements, each quoted (for `= ANY($1::text[])`).
std::string text_array(const std::vector<std::string>& items);

/// One query result. Cells are text except where a query asked for binary (bytea).
class result {
public:
    explicit result(PGresult* r) noexcept : r_(r) {}
    int rows() const noexcept { return PQntuples(r_.get()); }
    bool null(int row, int col) const noexcept { return PQgetisnull(r_.get(), row, col) != 0; }
    std::string_view text(int row, int col) const noexcept {
        return {PQgetvalue(r_.get(), row, col), static_cast<std::size_t>(PQgetlength(r_.get(), row, col))};
    }
    std::int64_t int64(int row, int col) const;
    /// A bytea cell of a text-format result, decoded (`\\x…` hex to bytes).
    std::string bytes(int row, int col) const;

private:
    struct clear {
        void operator()(PGresult* r) const noexcept { PQclear(r); }
    };
    std::unique_ptr<PGresult, clear> r_;
};

/// Parameters of one statement: text, or binary for bytea. Views must outlive the call.
class params {
public:
    params& text(const std::string& v);  // text parameters are read up to their NUL
    params& text_or_null(const std::string& v) { return v.empty() ? null() : text(v); }
    params& int64(std::int64_t v);
    params& binary(const void* data, std::size_t size);
    params& null();

private:
    friend class connection;
    std::vector<std::string> owned_;  // numbers rendered as text
    std::vector<const char*> values_;
    std::vector<int> lengths_, formats_;
    std::vector<std::size_t> owned_index_;  // values_[i] points into owned_[owned_index_[i]] when not npos
};

/// A libpq connection (RAII). Not thread-safe: one thread at a time.
class connection {
public:
    /// Connects; throws core::error{unavailable} with one line naming the server and the cause.
    explicit connection(const std::string& url);

    /// Runs SQL without parameters (may hold several statements).
    void exec(const std::string& sql, std::string_view doing);
    /// Runs one statement with parameters; `binary_result` asks for binary cells (bytea as bytes).
    result query(const std::string& sql, const params& p, std::string_view doing, bool binary_result = false);
    /// Prepares `sql` under `name` once per connection; `run_prepared` then executes it.
    void prepare(const std::string& name, const std::string& sql, std::string_view doing);
    result run_prepared(const std::string& name, const params& p, std::string_view doing);

    /// The SQLSTATE of the last failure ("23505" unique violation), empty when none.
    const std::string& last_state() const noexcept { return state_; }
    bool in_transaction() const noexcept;
    const std::string& where() const noexcept { return where_; }
    PGconn* handle() const noexcept { return c_.get(); }

private:
    result check(PGresult* r, std::string_view doing);

    struct finish {
        void operator()(PGconn* c) const noexcept { PQfinish(c); }
    };
    std::string where_;  // the redacted URL
    std::unique_ptr<PGconn, finish> c_;
    std::string state_;
};

/// A core::error{storage} for a failure while `doing` something with the store at `where`.
core::error storage_error(const std::string& where, std::string_view doing, std::string_view cause);

}  // namespace orbitmesh::store::postgres
