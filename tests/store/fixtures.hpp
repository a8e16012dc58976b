#pragma once
#include <cstdint>
#include <exception>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "core/event.hpp"
#include "store/event_store.hpp"
#include "temp_dir.hpp"

namespace orbitmesh::store::test {

inline core::event make_event(std::string stream, std::int64_t version, core::json data = nullptr) {
    core::event e;
    e.stream = std::move(stream);
    e.version = version;
    e.type = "test.happened";
    e.data = data.is_null() ? core::json{{"version", version}} : std::move(data);
    e.time_ms = 1'700'000'000'000 + version;
    return e;
}

/// One batch holding `count` events of `stream`, versions first_version, first_version+1, ...
inline write_batch events_batch(const std::string& stream, std::int64_t first_version, int count = 1) {
    write_batch b;
    for (int i = 0; i < count; ++i) b.events.push_back(make_event(stream, first_version + i));
    return b;
}

// Options set field by field: a designated initializer would have to name the PostgreSQL fields
// too (-Wmissing-field-initializers) though these tests use SQLite only.
inline event_store::options sqlite_options(const std::filesystem::path& file, durability mode = durability::full) {
    event_store::options o;
    o.path = file;
    o.mode = mode;
    return o;
}

inline std::unique_ptr<event_store> open_store(const temp_dir& dir, durability mode = durability::full,
                                               std::size_t max_batch_events = 4096) {
    auto o = sqlite_options(dir / "orbitmesh.db", mode);
    o.max_batch_events = max_batch_events;
    return event_store::open(o);
}

/// Submits one batch and waits for its callback; returns what the callback got.
inline std::exception_ptr submit_and_wait(event_store& store, write_batch batch) {
    std::promise<std::exception_ptr> result;
    auto done = result.get_future();
    store.submit(std::move(batch), [&result](std::exception_ptr e) { result.set_value(e); });
    return done.get();
}

inline std::vector<core::event> read_events(event_store& store, std::int64_t after_seq = 0,
                                            const std::string& stream = {}) {
    std::vector<core::event> out;
    store.for_each_event([&out](const core::event& e) { out.push_back(e); }, after_seq, stream);
    return out;
}

}  // namespace orbitmesh::store::test
