// The agent's file watcher on real inotify in a temp dir: debounced, filtered, recursive.
#include <catch2/catch.hpp>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "core/error.hpp"
#include "engine/agent/file_watcher.hpp"

using namespace orbitmesh::engine::agent;
namespace fs = std::filesystem;

namespace {

struct collector {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<file_change> seen;

    void add(const file_change& c) {
        std::lock_guard lock(mu);
        seen.push_back(c);
        cv.notify_all();
    }
    /// Waits (bounded) until `n` changes arrived, then a little longer for any extra.
    std::vector<file_change> wait_for(std::size_t n) {
        std::unique_lock lock(mu);
        cv.wait_for(lock, std::chrono::seconds(5), [&] { return seen.size() >= n; });
        lock.unlock();
        std::this_thread::sleep_for(std::chrono::milliseconds(400));
        lock.lock();
        return seen;
    }
};

fs::path temp_dir(const char* name) {
    auto d = fs::temp_directory_path() / ("om-watch-" + std::to_string(::getpid()) + "-" + name);
    fs::remove_all(d);
    fs::create_directories(d);
    return d;
}

void append(const fs::path& p, const std::string& text) {
    std::ofstream(p, std::ios::app) << text;
}

}  // namespace

TEST_CASE("file watcher: a burst of writes to one file is one change once it is quiet") {
    auto dir = temp_dir("burst");
    collector got;
    file_watcher w([&](const file_change& c) { got.add(c); });
    watch_spec spec{"w1", dir, "*.csv", true, {}, 200};
    w.start(spec);
    for (int i = 0; i < 10; ++i) append(dir / "data.csv", "row\n");
    append(dir / "notes.txt", "ignored\n");  // the filter keeps only *.csv
    auto seen = got.wait_for(1);
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].watch_id == "w1");
    CHECK(seen[0].name == "data.csv");
    CHECK(seen[0].path == (dir / "data.csv").string());
    CHECK(seen[0].change == "created");
    fs::remove_all(dir);
}

TEST_CASE("file watcher: directories created later are watched, change types filter, stop ends it") {
    auto dir = temp_dir("tree");
    collector got;
    file_watcher w([&](const file_change& c) { got.add(c); });
    w.start({"w2", dir, "*", true, {"deleted"}, 50});
    fs::create_directories(dir / "sub");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the new directory's watch is added
    append(dir / "sub" / "a.log", "x");
    fs::remove(dir / "sub" / "a.log");
    auto seen = got.wait_for(1);
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].name == "sub/a.log");
    CHECK(seen[0].change == "deleted");
    CHECK(w.ids() == std::vector<std::string>{"w2"});
    CHECK(w.stop("w2"));
    CHECK_FALSE(w.stop("w2"));
    append(dir / "late.log", "x");
    fs::remove(dir / "late.log");
    CHECK(got.wait_for(2).size() == 1);
    fs::remove_all(dir);
}

TEST_CASE("file watcher: a path that is not a directory is refused") {
    collector got;
    file_watcher w([&](const file_change& c) { got.add(c); });
    CHECK_THROWS_WITH(w.start({"w3", "/nonexistent/dir", "*", true, {}, 10}), Catch::Contains("is not a directory"));
    CHECK(w.ids().empty());
}
