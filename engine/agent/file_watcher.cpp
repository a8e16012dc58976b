// inotify for file watches: directories added recursively, changes debounced per path.
#include "engine/agent/file_watcher.hpp"

#include <fnmatch.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <system_error>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "engine/agent/agent_log.hpp"

namespace orbitmesh::engine::agent {

namespace fs = std::filesystem;

namespace {

constexpr std::uint32_t watch_mask = IN_CREATE | IN_MODIFY | IN_CLOSE_WRITE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO |
                                     IN_DELETE_SELF | IN_ONLYDIR;

std::string change_of(std::uint32_t mask) {
    if (mask & (IN_MOVED_FROM | IN_MOVED_TO)) return "renamed";
    if (mask & IN_CREATE) return "created";
    if (mask & IN_DELETE) return "deleted";
    return "modified";
}

// What a quiet path reports when several things happened to it.
std::string merge(const std::string& before, const std::string& now) {
    if (now == "deleted" || before.empty()) return now;
    if (before == "created" && now == "modified") return before;
    return now;
}

}  // namespace

file_watcher::file_watcher(std::function<void(const file_change&)> sink) : sink_(std::move(sink)) {
    inotify_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    wake_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (inotify_ < 0 || wake_ < 0)
        throw core::error(core::error_kind::internal, std::string("file watcher: cannot start inotify: ") + std::strerror(errno));
    thread_ = std::thread([this] { run(); });
}

file_watcher::~file_watcher() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    std::uint64_t one = 1;
    if (::write(wake_, &one, sizeof one) < 0) {}
    if (thread_.joinable()) thread_.join();
    ::close(inotify_);
    ::close(wake_);
}

void file_watcher::add_dir(const watch_spec& w, const fs::path& d) {
    if (dirs_.size() >= max_dirs)
        throw core::error(core::error_kind::invalid_input, "filewatch: more than " + std::to_string(max_dirs) +
                                                               " directories watched on this agent; watch a narrower path");
    int wd = ::inotify_add_watch(inotify_, d.c_str(), watch_mask);
    if (wd < 0)
        throw core::error(core::error_kind::invalid_input, "filewatch: cannot watch \"" + d.string() + "\": " + std::strerror(errno));
    dirs_[wd] = {w.id, d};
}

std::size_t file_watcher::start(watch_spec spec) {
    std::error_code ec;
    if (!fs::is_directory(spec.path, ec))
        throw core::error(core::error_kind::invalid_input, "filewatch: \"" + spec.path.string() + "\" is not a directory on this agent");
    std::lock_guard lock(mu_);
    remove_watch_locked(spec.id);
    const auto before = dirs_.size();
    try {
        add_dir(spec, spec.path);
        if (spec.recursive)
            for (fs::recursive_directory_iterator it(spec.path, fs::directory_options::skip_permission_denied, ec), end; it != end;
                 it.increment(ec))
                if (it->is_directory(ec) && !it->is_symlink(ec)) add_dir(spec, it->path());
    } catch (...) {
        remove_watch_locked(spec.id);
        throw;
    }
    const auto added = dirs_.size() - before;
    watches_[spec.id] = std::move(spec);
    return added;
}

void file_watcher::remove_watch_locked(const std::string& id) {
    for (auto it = dirs_.begin(); it != dirs_.end();) {
        if (it->second.watch_id != id) {
            ++it;
            continue;
        }
        ::inotify_rm_watch(inotify_, it->first);
        it = dirs_.erase(it);
    }
    for (auto it = pending_.begin(); it != pending_.end();) it = it->first.first == id ? pending_.erase(it) : std::next(it);
    watches_.erase(id);
}

bool file_watcher::stop(const std::string& id) {
    std::lock_guard lock(mu_);
    const bool had = watches_.count(id) > 0;
    remove_watch_locked(id);
    return had;
}

std::vector<std::string> file_watcher::ids() const {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const auto& [id, w] : watches_) out.push_back(id);
    return out;
}

void file_watcher::on_event(int wd, std::uint32_t mask, const std::string& name, std::int64_t now) {
    auto d = dirs_.find(wd);
    if (d == dirs_.end()) return;
    if (mask & (IN_IGNORED | IN_DELETE_SELF)) {
        if (mask & IN_IGNORED) dirs_.erase(d);
        return;
    }
    auto w = watches_.find(d->second.watch_id);
    if (w == watches_.end() || name.empty()) return;
    const fs::path full = d->second.path / name;
    if ((mask & IN_ISDIR) && (mask & (IN_CREATE | IN_MOVED_TO)) && w->second.recursive) {
        try {
            add_dir(w->second, full);
        } catch (const core::error& e) {
            log_line(e.what());
        }
    }
    if (::fnmatch(w->second.filter.c_str(), name.c_str(), 0) != 0) return;
    const auto change = change_of(mask);
    const auto& types = w->second.change_types;
    if (!types.empty() && std::find(types.begin(), types.end(), change) == types.end()) return;
    auto key = std::make_pair(w->first, full.string());
    auto p = pending_.find(key);
    if (p == pending_.end() && pending_.size() >= max_pending) {
        log_line("filewatch " + w->first + ": more than " + std::to_string(max_pending) + " changes waiting; dropped " + full.string());
        return;
    }
    auto& slot = pending_[key];
    slot.change = merge(slot.change, change);
    slot.due_ms = now + w->second.debounce_ms;
    // Lexical: `full` is built from the watch path, and fs::relative would canonicalise (and throw
    // on this thread) when the directory is removed under the watch.
    slot.name = full.lexically_relative(w->second.path).string();
}

std::int64_t file_watcher::next_due() const {
    std::int64_t due = INT64_MAX;
    for (const auto& [k, p] : pending_) due = std::min(due, p.due_ms);
    return due;
}

void file_watcher::flush_due(std::int64_t now) {
    std::vector<file_change> ready;
    {
        std::lock_guard lock(mu_);
        for (auto it = pending_.begin(); it != pending_.end();) {
            if (it->second.due_ms > now) {
                ++it;
                continue;
            }
            ready.push_back({it->first.first, it->first.second, it->second.name, it->second.change});
            it = pending_.erase(it);
        }
    }
    for (const auto& c : ready) sink_(c);
}

void file_watcher::run() {
    alignas(inotify_event) char buf[64 * 1024];
    for (;;) {
        std::int64_t wait_ms;
        {
            std::lock_guard lock(mu_);
            if (stopping_) return;
            const auto due = next_due();
            wait_ms = due == INT64_MAX ? 1000 : std::max<std::int64_t>(0, due - core::steady_ms());
        }
        pollfd fds[2] = {{inotify_, POLLIN, 0}, {wake_, POLLIN, 0}};
        ::poll(fds, 2, static_cast<int>(std::min<std::int64_t>(wait_ms, 1000)));
        if (fds[1].revents & POLLIN) {
            std::uint64_t v;
            if (::read(wake_, &v, sizeof v) < 0) {}
        }
        for (;;) {
            ssize_t n = ::read(inotify_, buf, sizeof buf);
            if (n <= 0) break;
            std::lock_guard lock(mu_);
            const auto now = core::steady_ms();
            for (char* p = buf; p < buf + n;) {
                auto* ev = reinterpret_cast<inotify_event*>(p);
                on_event(ev->wd, ev->mask, ev->len > 0 ? std::string(ev->name) : std::string(), now);
                p += sizeof(inotify_event) + ev->len;
            }
        }
        flush_due(core::steady_ms());
    }
}

}  // namespace orbitmesh::engine::agent
