// libpq is loaded when a PostgreSQL store is first used, not when the binary starts: linked
// directly, it and the twenty libraries it needs (Kerberos, LDAP, GnuTLS, ...) cost every
// `orbitmesh` command about 3 ms of start-up (7.6 ms -> 4.5 ms for `orbitmesh version`), and a
// machine that never uses PostgreSQL does not need libpq5 at all.
//
// The functions the store calls are defined here with libpq's own signatures (libpq-fe.h checks
// them) and forward to the library opened with dlopen. The executable does not export them, so
// libpq's calls to itself are not redirected.

#include "store/postgres/libpq_loader.hpp"

#include <dlfcn.h>
#include <libpq-fe.h>

#include <mutex>
#include <string>

#include "core/error.hpp"

namespace orbitmesh::store::postgres {
namespace {

constexpr const char* library = "libpq.so.5";

void* handle() {
    static void* h = nullptr;
    static std::string failure;
    static std::once_flag once;
    std::call_once(once, [] {
        h = dlopen(library, RTLD_NOW | RTLD_LOCAL);
        if (h == nullptr) {
            const char* why = dlerror();
            failure = why != nullptr ? why : "not found";
        }
    });
    if (h == nullptr)
        throw core::error{core::error_kind::unavailable,
                          std::string("the PostgreSQL store needs ") + library + " (Debian package libpq5): " + failure};
    return h;
}

template <typename Fn>
Fn resolve(const char* name) {
    void* f = dlsym(handle(), name);
    if (f == nullptr)
        throw core::error{core::error_kind::unavailable, std::string(library) + " has no function " + name};
    return reinterpret_cast<Fn>(f);
}

}  // namespace

void require_libpq() { handle(); }

}  // namespace orbitmesh::store::postgres

// One forwarding definition per libpq function the store uses: resolved on its first call.
#define ORBITMESH_PQ(ret, name, params, args)                                                           \
    extern "C" ret name params {                                                                      \
        static const auto fn = orbitmesh::store::postgres::resolve<decltype(&::name)>(#name);         \
        return fn args;                                                                               \
    }

ORBITMESH_PQ(PGconn*, PQconnectdb, (const char* conninfo), (conninfo))
ORBITMESH_PQ(void, PQfinish, (PGconn * c), (c))
ORBITMESH_PQ(ConnStatusType, PQstatus, (const PGconn* c), (c))
ORBITMESH_PQ(PGTransactionStatusType, PQtransactionStatus, (const PGconn* c), (c))
ORBITMESH_PQ(char*, PQerrorMessage, (const PGconn* c), (c))
ORBITMESH_PQ(int, PQsocket, (const PGconn* c), (c))
ORBITMESH_PQ(PQnoticeProcessor, PQsetNoticeProcessor, (PGconn * c, PQnoticeProcessor p, void* arg), (c, p, arg))
ORBITMESH_PQ(PQconninfoOption*, PQconninfoParse, (const char* conninfo, char** errmsg), (conninfo, errmsg))
ORBITMESH_PQ(void, PQconninfoFree, (PQconninfoOption * opts), (opts))
ORBITMESH_PQ(PGresult*, PQexec, (PGconn * c, const char* query), (c, query))
ORBITMESH_PQ(PGresult*, PQexecParams,
             (PGconn * c, const char* command, int n, const Oid* types, const char* const* values, const int* lengths,
              const int* formats, int result_format),
             (c, command, n, types, values, lengths, formats, result_format))
ORBITMESH_PQ(PGresult*, PQprepare, (PGconn * c, const char* name, const char* query, int n, const Oid* types),
             (c, name, query, n, types))
ORBITMESH_PQ(PGresult*, PQexecPrepared,
             (PGconn * c, const char* name, int n, const char* const* values, const int* lengths, const int* formats,
              int result_format),
             (c, name, n, values, lengths, formats, result_format))
ORBITMESH_PQ(ExecStatusType, PQresultStatus, (const PGresult* r), (r))
ORBITMESH_PQ(char*, PQresultErrorMessage, (const PGresult* r), (r))
ORBITMESH_PQ(char*, PQresultErrorField, (const PGresult* r, int code), (r, code))
ORBITMESH_PQ(int, PQntuples, (const PGresult* r), (r))
ORBITMESH_PQ(int, PQnfields, (const PGresult* r), (r))
ORBITMESH_PQ(char*, PQgetvalue, (const PGresult* r, int row, int col), (r, row, col))
ORBITMESH_PQ(int, PQgetlength, (const PGresult* r, int row, int col), (r, row, col))
ORBITMESH_PQ(int, PQgetisnull, (const PGresult* r, int row, int col), (r, row, col))
ORBITMESH_PQ(char*, PQcmdTuples, (PGresult * r), (r))
ORBITMESH_PQ(void, PQclear, (PGresult * r), (r))
ORBITMESH_PQ(unsigned char*, PQunescapeBytea, (const unsigned char* from, size_t* to_length), (from, to_length))
ORBITMESH_PQ(void, PQfreemem, (void* p), (p))
ORBITMESH_PQ(int, PQconsumeInput, (PGconn * c), (c))
ORBITMESH_PQ(PGnotify*, PQnotifies, (PGconn * c), (c))
ORBITMESH_PQ(int, PQisBusy, (PGconn * c), (c))
ORBITMESH_PQ(char*, PQescapeLiteral, (PGconn * c, const char* s, size_t n), (c, s, n))
ORBITMESH_PQ(char*, PQescapeIdentifier, (PGconn * c, const char* s, size_t n), (c, s, n))

#undef ORBITMESH_PQ
