#include "store/sqlite/checkpointer.hpp"

#include <pthread.h>

#include <chrono>

#include "store/sqlite/connection.hpp"

namespace orbitmesh::store::sqlite {
namespace {

// Keeps most of the copying off the commit path while staying rare enough to be cheap; the
// writer finishes the copy itself once the WAL passes 32 MiB so it can rewind (event_store.cpp).
constexpr std::size_t commits_per_checkpoint = 32;
constexpr auto quiet_interval = std::chrono::milliseconds(100);

}  // namespace

checkpointer::checkpointer(const std::filesystem::path& file, bool sync_full)
    : db_(open_connection(file, {.use = role::checkpointer, .sync_full = sync_full})), thread_([this] { run(); }) {}

checkpointer::~checkpointer() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    wake_.notify_one();
    thread_.join();
}

void checkpointer::committed() {
    bool due = false;
    {
        std::lock_guard lock(mutex_);
        due = ++commits_ == commits_per_checkpoint;
    }
    if (due) wake_.notify_one();
}

void checkpointer::run() {
    pthread_setname_np(pthread_self(), "om-checkpoint");
    std::unique_lock lock(mutex_);
    while (!stop_) {
        wake_.wait_for(lock, quiet_interval, [this] { return stop_ || commits_ >= commits_per_checkpoint; });
        if (stop_ || commits_ == 0) continue;
        commits_ = 0;
        lock.unlock();
        try {
            // PASSIVE never waits for readers or the writer; what it cannot copy now it copies next
            // time. A failure here loses nothing (the WAL is durable), it only lets the WAL grow.
            std::lock_guard running(running_);
            db_.exec("PRAGMA wal_checkpoint(PASSIVE)");
        } catch (...) {
        }
        lock.lock();
    }
}

}  // namespace orbitmesh::store::sqlite
