#pragma once
#include <span>
#include <string_view>

namespace orbitmesh::engine {

/// One file of the dashboard, embedded in the binary at build time (engine/dashboard/assets/,
/// turned into a source file by embed_assets.cmake).
struct dashboard_asset {
    std::string_view name;          // "app.js": the file name under assets/, served at /ui/NAME
    std::string_view content_type;  // "text/javascript; charset=utf-8"
    std::string_view etag;          // quoted, from a hash of the bytes: "\"3f2a…\""
    std::string_view body;
};

/// Every embedded file, in the order sources.cmake lists them. Static data; thread-safe.
std::span<const dashboard_asset> dashboard_assets() noexcept;

}  // namespace orbitmesh::engine
