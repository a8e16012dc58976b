#include "engine/auth/offline_tokens.hpp"

#include "core/clock.hpp"
#include "engine/auth/key_files.hpp"
#include "store/event_store.hpp"

namespace orbitmesh::engine::auth {

core::json create_token_offline(const offline_store& where, const mint_request& r) {
    check_mint_request(r);
    auto key = load_hub_key(where.data_dir, where.jwt_key_file);
    auto m = mint_tokens(*key, r);
    store::event_store::options so;
    so.path = where.store_path.empty() ? where.data_dir / "orbitmesh.db" : where.store_path;
    so.url = where.store_url;
    so.exclusive = false;  // beside a running hub, as with SQLite
    auto store = store::event_store::open(so);
    store::write_batch batch;
    batch.events = m.events;
    std::exception_ptr failure;
    store->submit(std::move(batch), [&failure](std::exception_ptr e) { failure = e; });
    store->flush();
    store->close();
    if (failure) std::rethrow_exception(failure);
    return m.reply(core::now_ms());
}

}  // namespace orbitmesh::engine::auth
