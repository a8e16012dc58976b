#pragma once
#include <exception>
#include <string>
#include <utility>

#include "engine/hub/hub_log.hpp"

namespace orbitmesh::engine {

/// The last guard on the hub strand. Runs `fn()`; an exception escaping it — a bug, since expected
/// failures are outcomes and error replies — is logged as `error: internal error in WHAT: TEXT`
/// and handed to `on_error(e)` (close that connection, fail that request), so it never reaches
/// io_context::run and std::terminate. `what()` builds the name, only on failure.
template <class Fn, class What, class OnError>
void guarded(Fn&& fn, What&& what, OnError&& on_error) noexcept {
    try {
        fn();
    } catch (const std::exception& e) {
        try {
            hub_log("error: internal error in " + std::string(what()) + ": " + e.what());
            on_error(e);
        } catch (...) {  // the guard itself must not throw: nothing is left to catch it
        }
    } catch (...) {
        try {
            hub_log("error: internal error in " + std::string(what()) + ": an exception that is not std::exception");
        } catch (...) {
        }
    }
}

/// guarded() with nothing to undo: the failure is only logged.
template <class Fn, class What>
void guarded(Fn&& fn, What&& what) noexcept {
    guarded(std::forward<Fn>(fn), std::forward<What>(what), [](const std::exception&) {});
}

}  // namespace orbitmesh::engine
