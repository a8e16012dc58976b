#include "store/event_source.hpp"

#include "store/event_scan.hpp"
#include "store/postgres/event_tail.hpp"
#include "store/store_url.hpp"

namespace orbitmesh::store {
namespace {

class sqlite_source final : public event_source {
public:
    explicit sqlite_source(const std::filesystem::path& file) : scan_(file) {}
    std::int64_t last_seq() override { return scan_.bounds().last_seq; }
    void range(std::int64_t after, std::int64_t last, const visitor& fn) override { scan_.range(after, last, fn); }
    void stream(std::string_view name, std::int64_t last, const visitor& fn) override { scan_.stream(name, last, fn); }

private:
    event_scan scan_;
};

}  // namespace

std::unique_ptr<event_source> open_event_source(const std::string& store_url, const std::filesystem::path& sqlite_file) {
    if (is_postgres_url(store_url)) return postgres::open_event_tail(store_url);
    return std::make_unique<sqlite_source>(sqlite_file);
}

}  // namespace orbitmesh::store
