#include "engine/hub/secret_store.hpp"

#include <cstdlib>
#include <fstream>
#include <iterator>

#include "core/error.hpp"

namespace orbitmesh::engine {

namespace {

constexpr std::uintmax_t max_secret_bytes = 64u << 10;

[[noreturn]] void unreadable(const std::filesystem::path& file, const std::string& why) {
    throw core::error(core::error_kind::invalid_input, "secret file " + file.string() + " " + why);
}

}  // namespace

std::optional<std::string> secret_store::value(const std::string& name) const {
    if (!dir_.empty()) {
        auto file = dir_ / name;  // the name is [A-Za-z0-9_]: it cannot leave the directory
        std::error_code ec;
        if (std::filesystem::is_regular_file(file, ec)) {
            auto size = std::filesystem::file_size(file, ec);
            if (ec) unreadable(file, "cannot be read: " + ec.message());
            if (size > max_secret_bytes) unreadable(file, "is larger than 64 KiB");
            std::ifstream in(file, std::ios::binary);
            if (!in) unreadable(file, "cannot be read (check its permissions)");
            std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
            if (!text.empty() && text.back() == '\n') text.pop_back();
            if (!text.empty() && text.back() == '\r') text.pop_back();
            return text;
        }
    }
    if (const char* env = std::getenv(name.c_str())) return std::string(env);
    return std::nullopt;
}

std::map<std::string, std::string> secret_store::resolve(const std::vector<std::string>& names) const {
    std::map<std::string, std::string> out;
    for (const auto& name : names) {
        auto v = value(name);
        if (!v)
            throw core::error(core::error_kind::invalid_input,
                              "secret \"" + name + "\" is not defined on the hub (" +
                                  (dir_.empty() ? std::string("start it with ") + name + " in its environment or use "
                                                                                         "serve --secrets-dir DIR"
                                                : "add the file " + (dir_ / name).string() +
                                                      " or set " + name + " in the hub's environment") +
                                  ")");
        out.emplace(name, std::move(*v));
    }
    return out;
}

}  // namespace orbitmesh::engine
