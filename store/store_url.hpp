#pragma once
#include <filesystem>
#include <string>
#include <string_view>

namespace orbitmesh::store {

/// True for a `--store` URL that selects the PostgreSQL store (`postgres://…`, `postgresql://…`).
bool is_postgres_url(std::string_view url) noexcept;

/// The URL with its password replaced by `***`, for messages and logs.
std::string redacted_url(std::string_view url);

/// Checks a PostgreSQL URL's syntax without connecting; throws core::error{usage}.
void check_postgres_url(std::string_view url);

/// For the offline readers (`replay`, `replay --verify`), which read a SQLite file in place:
/// copies the PostgreSQL store at `url` (every table, read in one REPEATABLE READ snapshot, so
/// the copy is consistent while hubs keep writing) into a new SQLite store file `file`.
/// Throws core::error{unavailable} when the server cannot be reached, {storage} otherwise.
void copy_postgres_to_sqlite(const std::string& url, const std::filesystem::path& file);

/// The SQLite file an offline reader reads: the store file itself when `url` is empty, else a
/// consistent copy of the PostgreSQL store at `url` in a temp file, removed when this goes away.
class sqlite_view {
public:
    sqlite_view(std::filesystem::path file, const std::string& url);
    ~sqlite_view();
    sqlite_view(const sqlite_view&) = delete;
    sqlite_view& operator=(const sqlite_view&) = delete;
    const std::filesystem::path& file() const noexcept { return file_; }

private:
    std::filesystem::path file_;
    bool temporary_ = false;
};

}  // namespace orbitmesh::store
