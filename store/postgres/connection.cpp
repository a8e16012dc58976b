#include "store/postgres/connection.hpp"

#include <charconv>

#include "store/postgres/libpq_loader.hpp"

namespace orbitmesh::store::postgres {
namespace {

// libpq's messages span lines ("connection ... failed: refused\n\tIs the server running ...");
// an error is one line.
std::string one_line(std::string_view text) {
    std::string out;
    bool space = false;
    for (char c : text) {
        if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
            space = !out.empty();
            continue;
        }
        if (space) out += ' ';
        space = false;
        out += c;
    }
    return out;
}

}  // namespace

bool is_postgres_url(std::string_view url) noexcept {
    return url.rfind("postgres://", 0) == 0 || url.rfind("postgresql://", 0) == 0;
}

std::string text_array(const std::vector<std::string>& items) {
    std::string out = "{";
    for (const auto& item : items) {
        if (out.size() > 1) out += ',';
        out += '"';
        for (char c : item) {
            if (c == '"' || c == '\\') out += '\\';
            out += c;
        }
        out += '"';
    }
    return out + "}";
}

std::string redacted(std::string_view url) {
    // scheme://user:password@host... -> scheme://user:***@host...
    const auto start = url.find("://");
    if (start == std::string_view::npos) return std::string(url);
    const auto at = url.find('@', start + 3);
    if (at == std::string_view::npos) return std::string(url);
    const auto colon = url.find(':', start + 3);
    if (colon == std::string_view::npos || colon > at) return std::string(url);
    return std::string(url.substr(0, colon + 1)) + "***" + std::string(url.substr(at));
}

void check_url(std::string_view url) {
    require_libpq();
    char* err = nullptr;
    PQconninfoOption* opts = PQconninfoParse(std::string(url).c_str(), &err);
    if (opts == nullptr) {
        std::string cause = err != nullptr ? one_line(err) : "out of memory";
        PQfreemem(err);
        throw core::error{core::error_kind::usage,
                          "--store " + redacted(url) + ": not a valid PostgreSQL URL (" + cause +
                              "); use postgres://USER@HOST:PORT/DATABASE"};
    }
    PQconninfoFree(opts);
}

std::int64_t result::int64(int row, int col) const {
    const auto t = text(row, col);
    std::int64_t v = 0;
    std::from_chars(t.data(), t.data() + t.size(), v);
    return v;
}

std::string result::bytes(int row, int col) const {
    if (null(row, col)) return {};
    std::size_t size = 0;
    unsigned char* raw = PQunescapeBytea(reinterpret_cast<const unsigned char*>(PQgetvalue(r_.get(), row, col)), &size);
    if (raw == nullptr) throw core::error{core::error_kind::storage, "out of memory decoding a bytea cell"};
    std::string out(reinterpret_cast<const char*>(raw), size);
    PQfreemem(raw);
    return out;
}

params& params::text(const std::string& v) {
    values_.push_back(v.c_str());
    lengths_.push_back(static_cast<int>(v.size()));
    formats_.push_back(0);
    owned_index_.push_back(std::string::npos);
    return *this;
}

params& params::int64(std::int64_t v) {
    owned_.push_back(std::to_string(v));
    values_.push_back(nullptr);
    lengths_.push_back(0);
    formats_.push_back(0);
    owned_index_.push_back(owned_.size() - 1);
    return *this;
}

params& params::binary(const void* data, std::size_t size) {
    values_.push_back(size == 0 ? "" : static_cast<const char*>(data));
    lengths_.push_back(static_cast<int>(size));
    formats_.push_back(1);
    owned_index_.push_back(std::string::npos);
    return *this;
}

params& params::null() {
    values_.push_back(nullptr);
    lengths_.push_back(0);
    formats_.push_back(0);
    owned_index_.push_back(std::string::npos);
    return *this;
}

connection::connection(const std::string& url) : where_(redacted(url)) {
    check_url(url);
    c_.reset(PQconnectdb(url.c_str()));
    if (!c_ || PQstatus(c_.get()) != CONNECTION_OK) {
        const std::string cause = c_ ? one_line(PQerrorMessage(c_.get())) : "out of memory";
        throw core::error{core::error_kind::unavailable,
                          "cannot reach the PostgreSQL store " + where_ + ": " + cause +
                              " (is the server running, and does the database exist?)"};
    }
    // Notices ("relation already exists, skipping") are not errors and must not reach stderr.
    PQsetNoticeProcessor(c_.get(), [](void*, const char*) {}, nullptr);
}

bool connection::in_transaction() const noexcept {
    return PQtransactionStatus(c_.get()) == PQTRANS_INTRANS || PQtransactionStatus(c_.get()) == PQTRANS_INERROR;
}

result connection::check(PGresult* r, std::string_view doing) {
    const auto status = r == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(r);
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
        state_.clear();
        return result(r);
    }
    result owned(r);  // freed on the way out
    const char* code = r == nullptr ? nullptr : PQresultErrorField(r, PG_DIAG_SQLSTATE);
    state_ = code == nullptr ? "" : code;
    const std::string cause = one_line(r != nullptr ? PQresultErrorMessage(r) : PQerrorMessage(c_.get()));
    if (PQstatus(c_.get()) == CONNECTION_BAD)
        throw core::error{core::error_kind::storage, "lost the connection to the PostgreSQL store " + where_ +
                                                         " while " + std::string(doing) + ": " + cause};
    if (state_ == "23505")
        throw core::error{core::error_kind::conflict, "store " + where_ + ": " + std::string(doing) + ": " + cause};
    throw storage_error(where_, doing, cause);
}

void connection::exec(const std::string& sql, std::string_view doing) { check(PQexec(c_.get(), sql.c_str()), doing); }

namespace {

std::vector<const char*> values_of(const std::vector<const char*>& values, const std::vector<std::size_t>& index,
                                   const std::vector<std::string>& owned) {
    std::vector<const char*> out(values);
    for (std::size_t i = 0; i < out.size(); ++i)
        if (index[i] != std::string::npos) out[i] = owned[index[i]].c_str();
    return out;
}

}  // namespace

result connection::query(const std::string& sql, const params& p, std::string_view doing, bool binary_result) {
    const auto values = values_of(p.values_, p.owned_index_, p.owned_);
    return check(PQexecParams(c_.get(), sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                              p.lengths_.data(), p.formats_.data(), binary_result ? 1 : 0),
                 doing);
}

void connection::prepare(const std::string& name, const std::string& sql, std::string_view doing) {
    check(PQprepare(c_.get(), name.c_str(), sql.c_str(), 0, nullptr), doing);
}

result connection::run_prepared(const std::string& name, const params& p, std::string_view doing) {
    const auto values = values_of(p.values_, p.owned_index_, p.owned_);
    return check(PQexecPrepared(c_.get(), name.c_str(), static_cast<int>(values.size()), values.data(),
                                p.lengths_.data(), p.formats_.data(), 0),
                 doing);
}

core::error storage_error(const std::string& where, std::string_view doing, std::string_view cause) {
    return core::error{core::error_kind::storage,
                       "store " + where + ": " + std::string(doing) + " failed: " + std::string(cause)};
}

}  // namespace orbitmesh::store::postgres
