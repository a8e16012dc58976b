#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace orbitmesh::engine::agent {

/// One watch an agent keeps (the original's `orbit:filewatch:start`, file_watch triggers).
struct watch_spec {
    std::string id;
    std::filesystem::path path;           // a directory (or one file), already confined by the caller
    std::string filter = "*";             // glob over file names
    bool recursive = true;                // subdirectories too, including ones created later
    std::vector<std::string> change_types;  // created, modified, deleted, renamed; empty = all
    std::int64_t debounce_ms = 1000;
};

/// A change after debouncing: the last thing that happened to `path` once it was quiet for
/// the watch's debounce time (created-then-modified stays created; deleted wins).
struct file_change {
    std::string watch_id;
    std::string path;  // absolute
    std::string name;  // relative to the watched path
    std::string change;
};

/// Every watch of an agent on one inotify instance and one thread. `sink` is called on that
/// thread (it may block briefly, e.g. to post the change to the hub). Bounded: at most
/// `max_dirs` watched directories in all and `max_pending` changes waiting for their quiet time
/// (more are dropped with a log line). Thread-safe; the destructor stops the thread.
class file_watcher {
public:
    static constexpr std::size_t max_dirs = 8192;
    static constexpr std::size_t max_pending = 10'000;

    explicit file_watcher(std::function<void(const file_change&)> sink);
    ~file_watcher();
    file_watcher(const file_watcher&) = delete;
    file_watcher& operator=(const file_watcher&) = delete;

    /// Starts (or replaces) the watch `spec.id`. Throws core::error{invalid_input} when the path
    /// does not exist or the directory budget is spent. Returns how many directories it watches.
    std::size_t start(watch_spec spec);
    /// Ends the watch; false when there was none with that id.
    bool stop(const std::string& id);
    std::vector<std::string> ids() const;

private:
    struct dir {
        std::string watch_id;
        std::filesystem::path path;
    };
    struct pending {
        std::string change;
        std::int64_t due_ms = 0;
        std::string name;
    };
    void run();
    void add_dir(const watch_spec& w, const std::filesystem::path& d);
    void on_event(int wd, std::uint32_t mask, const std::string& name, std::int64_t now);
    void flush_due(std::int64_t now);
    std::int64_t next_due() const;
    void remove_watch_locked(const std::string& id);

    std::function<void(const file_change&)> sink_;
    int inotify_ = -1;
    int wake_ = -1;
    mutable std::mutex mu_;
    bool stopping_ = false;
    std::map<std::string, watch_spec> watches_;
    std::map<int, dir> dirs_;                                            // wd -> directory
    std::map<std::pair<std::string, std::string>, pending> pending_;     // (watch, path) -> change
    std::thread thread_;
};

}  // namespace orbitmesh::engine::agent
