#include "store/postgres/event_tail.hpp"

#include "core/upcast.hpp"
#include "store/postgres/connection.hpp"

namespace orbitmesh::store::postgres {
namespace {

// Read in pages by seq, so catching up on a long log never holds it in memory at once.
constexpr std::int64_t rows_per_read = 2000;

class event_tail final : public event_source {
public:
    explicit event_tail(const std::string& url) : db_(url) {}

    std::int64_t last_seq() override {
        return db_.query("SELECT coalesce(max(seq), 0) FROM events", {}, "reading the last seq").int64(0, 0);
    }

    void range(std::int64_t after, std::int64_t last, const visitor& fn) override {
        while (after < last) {
            params p;
            p.int64(after).int64(last).int64(rows_per_read);
            const auto r = db_.query("SELECT seq, stream, version, type, data, time FROM events WHERE seq > $1 AND "
                                     "seq <= $2 ORDER BY seq LIMIT $3",
                                     p, "reading events");
            after = visit(r, fn, after);
            if (r.rows() < rows_per_read) return;
        }
    }

    void stream(std::string_view name, std::int64_t last, const visitor& fn) override {
        params p;
        const std::string stream(name);
        p.text(stream).int64(last);
        const auto r = db_.query("SELECT seq, stream, version, type, data, time FROM events WHERE stream = $1 AND "
                                 "seq <= $2 ORDER BY version",
                                 p, "reading a stream");
        visit(r, fn, 0);
    }

private:
    /// Calls fn for every row; returns the last seq seen (`after` when none).
    std::int64_t visit(const result& r, const visitor& fn, std::int64_t after) {
        core::event_view v;
        for (int i = 0; i < r.rows(); ++i) {
            v.seq = r.int64(i, 0);
            v.stream = r.text(i, 1);
            v.version = r.int64(i, 2);
            v.type = r.text(i, 3);
            data_ = r.bytes(i, 4);
            v.data = {reinterpret_cast<const std::uint8_t*>(data_.data()), data_.size()};
            v.time_ms = r.int64(i, 5);
            try {
                core::upcast_packed(v.type, v.seq, v.data, scratch_);
            } catch (const core::json::exception& e) {
                throw storage_error(db_.where(), "reading event " + std::to_string(v.seq), e.what());
            }
            fn(v);
            after = v.seq;
        }
        return after;
    }

    connection db_;
    std::string data_;
    std::vector<std::uint8_t> scratch_;
};

}  // namespace

std::unique_ptr<event_source> open_event_tail(const std::string& url) { return std::make_unique<event_tail>(url); }

}  // namespace orbitmesh::store::postgres
