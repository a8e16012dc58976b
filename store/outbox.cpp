#include "store/outbox.hpp"

#include <cstdint>
#include <stdexcept>
#include <string_view>
#include <unordered_map>
#include <utility>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <msgpack.hpp>
#include <sqlite3.h>

#include "core/error.hpp"
#include "core/job_key.hpp"
#include "store/sqlite/connection.hpp"
#include "store/sqlite/migrations.hpp"
#include "store/sqlite/statement.hpp"

namespace orbitmesh::store {
namespace {

using sqlite::statement_scope;

// Version 1: a row per result.
constexpr std::string_view outbox_v1 = R"sql(
CREATE TABLE results(
    job_id  TEXT NOT NULL,
    attempt INT  NOT NULL,
    result  TEXT NOT NULL,
    PRIMARY KEY(job_id, attempt)
);
)sql";
// Version 2: a row per batch. The agent stores everything that finished together in one group
// commit, so a batch costs one insert and, once all of it is acknowledged, one delete, instead of
// a row plus an index entry per result (half the agent's outbox time went there). `results` is a
// MessagePack array of [job_id, attempt, result]; rows moved over from version 1 hold the same
// as JSON text. `seq` order is the order results were first written, the order they are resent in.
constexpr std::string_view outbox_v2 = R"sql(
CREATE TABLE result_batches(
    seq     INTEGER PRIMARY KEY,
    results BLOB NOT NULL
);
INSERT INTO result_batches(results)
    SELECT json_array(json_array(job_id, attempt, json(result))) FROM results ORDER BY rowid;
DROP TABLE results;
)sql";
constexpr std::string_view migrations[] = {outbox_v1, outbox_v2};

std::string attempt_name(std::string_view job_id, int attempt) {
    return "job " + std::string(job_id) + " attempt " + std::to_string(attempt);
}

// --- a batch as MessagePack: msgpack-cxx packs the frame, nlohmann encodes each result -----------

/// Lets msgpack-cxx's packer append to a std::string.
struct string_sink {
    std::string& out;
    void write(const char* data, std::size_t size) { out.append(data, size); }
};

std::string encode_batch(std::span<const outbox::entry* const> entries) {
    std::string out;
    out.reserve(16 + entries.size() * 160);
    string_sink sink{out};
    msgpack::packer<string_sink> pk(sink);
    pk.pack_array(static_cast<std::uint32_t>(entries.size()));
    for (const auto* e : entries) {
        // [job_id, attempt, result] or, with the attempt's unacknowledged output,
        // [job_id, attempt, result, [output messages]]: older outboxes read the same.
        pk.pack_array(e->outputs.empty() ? 3 : 4);
        pk.pack(e->job_id);
        pk.pack(e->attempt);
        core::json::to_msgpack(e->result, nlohmann::detail::output_adapter<char>(out));
        if (!e->outputs.empty()) core::json::to_msgpack(core::json(e->outputs), nlohmann::detail::output_adapter<char>(out));
    }
    return out;
}

std::vector<outbox::entry> decode_batch(const SQLite::Column& column) {
    const auto* bytes = static_cast<const std::uint8_t*>(column.getBlob());
    const auto size = static_cast<std::size_t>(column.getBytes());
    core::json all = size > 0 && bytes[0] == '[' ? core::json::parse(bytes, bytes + size)
                                                  : core::json::from_msgpack(bytes, bytes + size);
    if (!all.is_array()) throw std::runtime_error("a stored batch of results is not an array");
    std::vector<outbox::entry> out;
    out.reserve(all.size());
    for (auto& t : all) {
        if (!t.is_array() || t.size() < 3 || t.size() > 4 || !t[0].is_string() || !t[1].is_number_integer())
            throw std::runtime_error("a stored result is not [job_id, attempt, result(, outputs)]");
        std::vector<core::json> outputs;
        if (t.size() == 4 && t[3].is_array()) outputs = t[3].get<std::vector<core::json>>();
        out.push_back({std::move(t[0].get_ref<std::string&>()), t[1].get<int>(), std::move(t[2]), std::move(outputs)});
    }
    return out;
}

// --- where each result lives ---------------------------------------------------------------------

using core::job_key;
using core::job_key_view;

SQLite::Database open_outbox(const std::filesystem::path& file) {
    // The outbox stays tiny, so SQLite's own checkpoint inside a commit costs nothing worth a thread.
    auto db = sqlite::open_connection(file, {.use = sqlite::role::writer, .sync_full = true, .auto_checkpoint = true});
    // One agent process owns its outbox: hold the file locks for the whole session instead of
    // taking and dropping them (several fcntl calls) around every group commit. A second agent
    // pointed at the same data dir then fails to open it instead of sharing it.
    db.exec("PRAGMA locking_mode=EXCLUSIVE");
    sqlite::check_integrity(db, file);
    sqlite::migrate(db, file, "outbox", migrations);
    return db;
}

/// Rows are batches; which batch holds the current result of each (job, attempt), and how many
/// current results each batch still holds, is kept in memory (rebuilt from the file on open).
class sqlite_outbox final : public outbox {
public:
    explicit sqlite_outbox(std::filesystem::path file)
        : file_(std::move(file)),
          db_(open_outbox(file_)),
          insert_(db_, "INSERT INTO result_batches(results) VALUES(?1)"),
          update_(db_, "UPDATE result_batches SET results = ?2 WHERE seq = ?1"),
          delete_(db_, "DELETE FROM result_batches WHERE seq = ?1"),
          select_(db_, "SELECT results FROM result_batches WHERE seq = ?1"),
          all_(db_, "SELECT seq, results FROM result_batches ORDER BY seq") {
        try {
            // Batches whose results were all removed or replaced, should any be left over.
            for (auto seq : load_index())
                if (!live_.count(seq)) delete_batch(seq);
        } catch (...) {
            throw sqlite::storage_error(file_, "reading unacknowledged results");
        }
    }

    void put(const entry& e) override {
        const entry* one[] = {&e};
        put_all(one);
    }

    void put_all(std::span<const entry* const> entries) override {
        std::vector<const entry*> fresh, stored;
        std::vector<std::int64_t*> slots;
        for (const auto* e : entries) {
            auto [it, inserted] = where_.try_emplace(job_key(e->job_id, e->attempt), unassigned);
            if (!inserted) {
                stored.push_back(e);  // already stored (or twice in this call): replaced in place
                continue;
            }
            fresh.push_back(e);
            slots.push_back(&it->second);  // element references survive rehashing
        }
        if (!fresh.empty()) insert_batch(fresh, slots);
        for (const auto* e : stored) replace(*e);
    }

    std::optional<entry> get(const std::string& job_id, int attempt) override {
        try {
            auto it = where_.find(job_key_view(job_id, attempt));
            if (it == where_.end()) return std::nullopt;
            for (auto& e : read_batch(it->second))
                if (e.attempt == attempt && e.job_id == job_id) return std::move(e);
            return std::nullopt;
        } catch (...) {
            throw sqlite::storage_error(file_, "reading the result of " + attempt_name(job_id, attempt));
        }
    }

    void remove(const std::string& job_id, int attempt) override {
        auto it = where_.find(job_key_view(job_id, attempt));
        if (it == where_.end()) return;  // never stored, or removed already (a duplicated result_ack)
        const auto seq = it->second;
        where_.erase(it);
        auto live = live_.find(seq);
        if (live == live_.end() || --live->second > 0) return;  // the rest of its batch is still waiting
        live_.erase(live);
        try {
            delete_batch(seq);
        } catch (...) {
            throw sqlite::storage_error(file_, "removing the result of " + attempt_name(job_id, attempt));
        }
    }

    std::vector<entry> pending() override {
        try {
            statement_scope scope(all_);
            std::vector<entry> out;
            while (all_.executeStep()) {
                const auto seq = all_.getColumn(0).getInt64();
                for (auto& e : decode_batch(all_.getColumn(1)))
                    if (holds_current(seq, e)) out.push_back(std::move(e));
            }
            return out;
        } catch (...) {
            throw sqlite::storage_error(file_, "listing unacknowledged results");
        }
    }

    void begin_group() override {
        try {
            db_.exec("BEGIN IMMEDIATE");
        } catch (...) {
            throw sqlite::storage_error(file_, "starting a write");
        }
    }

    void commit_group() override {
        try {
            db_.exec("COMMIT");
        } catch (...) {
            throw sqlite::storage_error(file_, "committing results");
        }
    }

    void rollback_group() noexcept override {
        try {
            if (!db_.getHandle() || sqlite3_get_autocommit(db_.getHandle()) == 0) db_.exec("ROLLBACK");
        } catch (...) {
        }
        // The in-memory index followed the writes that were just undone: read it back.
        try {
            load_index();
        } catch (...) {
            where_.clear();  // removals become no-ops; leftover rows are resent after a restart
            live_.clear();
        }
    }

private:
    static constexpr std::int64_t unassigned = -1;

    /// Rebuilds where_ and live_ from the file; returns the seq of every batch.
    std::vector<std::int64_t> load_index() {
        where_.clear();
        live_.clear();
        std::vector<std::int64_t> seqs;
        statement_scope scope(all_);
        while (all_.executeStep()) {
            seqs.push_back(all_.getColumn(0).getInt64());
            // A result stored again later (a re-run after its removal) lives in the later batch.
            for (auto& e : decode_batch(all_.getColumn(1))) where_[job_key(std::move(e.job_id), e.attempt)] = seqs.back();
        }
        for (const auto& [k, seq] : where_) ++live_[seq];
        return seqs;
    }

    bool holds_current(std::int64_t seq, const entry& e) const {
        auto it = where_.find(job_key_view(e.job_id, e.attempt));
        return it != where_.end() && it->second == seq;
    }

    void insert_batch(const std::vector<const entry*>& fresh, const std::vector<std::int64_t*>& slots) {
        try {
            const std::string blob = encode_batch(fresh);
            statement_scope scope(insert_);
            insert_.bindNoCopy(1, blob.data(), static_cast<int>(blob.size()));
            insert_.exec();  // autocommit outside a group (synchronous=FULL): durable when this returns
            const auto seq = db_.getLastInsertRowid();
            for (auto* slot : slots) *slot = seq;
            live_[seq] = static_cast<int>(fresh.size());
        } catch (...) {
            for (const auto* e : fresh)
                if (auto it = where_.find(job_key_view(e->job_id, e->attempt)); it != where_.end()) where_.erase(it);
            throw sqlite::storage_error(file_, "saving the result of " + attempt_name(fresh.front()->job_id,
                                                                                       fresh.front()->attempt) +
                                                   (fresh.size() > 1 ? " and " + std::to_string(fresh.size() - 1) +
                                                                           " more" : std::string()));
        }
    }

    /// Rewrites the batch holding `e`'s key with `e`'s result in its place (rare: a re-run).
    void replace(const entry& e) {
        try {
            const auto seq = where_.find(job_key_view(e.job_id, e.attempt))->second;  // put_all checked it
            auto batch = read_batch(seq);
            std::vector<const entry*> all;
            bool swapped = false;
            for (const auto& b : batch) {
                bool same = !swapped && b.attempt == e.attempt && b.job_id == e.job_id;
                all.push_back(same ? &e : &b);
                swapped = swapped || same;
            }
            if (!swapped) all.push_back(&e);
            const std::string blob = encode_batch(all);
            statement_scope scope(update_);
            update_.bind(1, seq);
            update_.bindNoCopy(2, blob.data(), static_cast<int>(blob.size()));
            update_.exec();
            if (!swapped) ++live_[seq];
        } catch (...) {
            throw sqlite::storage_error(file_, "saving the result of " + attempt_name(e.job_id, e.attempt));
        }
    }

    std::vector<entry> read_batch(std::int64_t seq) {
        statement_scope scope(select_);
        select_.bind(1, seq);
        if (!select_.executeStep()) return {};
        return decode_batch(select_.getColumn(0));
    }

    void delete_batch(std::int64_t seq) {
        statement_scope scope(delete_);
        delete_.bind(1, seq);
        delete_.exec();
    }

    std::filesystem::path file_;
    SQLite::Database db_;
    SQLite::Statement insert_, update_, delete_, select_, all_;
    std::unordered_map<job_key, std::int64_t, core::job_key_hash, core::job_key_eq> where_;  // (job, attempt) -> batch seq
    std::unordered_map<std::int64_t, int> live_;                     // batch seq -> current results in it
};

}  // namespace

std::unique_ptr<outbox> outbox::open(const std::filesystem::path& file) {
    try {
        return std::make_unique<sqlite_outbox>(file);
    } catch (...) {
        throw sqlite::storage_error(file, "opening it");  // core::error passes through as is
    }
}

}  // namespace orbitmesh::store
