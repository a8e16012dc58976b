#include "core/secret_mask.hpp"

#include <algorithm>

namespace orbitmesh::core {

bool is_secret_name(std::string_view name) noexcept {
    if (name.empty() || name.size() > 128) return false;
    auto word = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
    if (!word(name.front())) return false;
    return std::all_of(name.begin(), name.end(), [&](char c) { return word(c) || (c >= '0' && c <= '9'); });
}

secret_mask::secret_mask(const std::vector<std::string>& values) {
    auto add = [this](std::string_view v) {
        while (!v.empty() && (v.back() == '\r' || v.back() == '\n')) v.remove_suffix(1);
        if (!v.empty()) needles_.emplace_back(v);
    };
    for (const auto& v : values) {
        add(v);
        if (v.find('\n') == std::string::npos) continue;
        std::string_view rest(v);
        while (!rest.empty()) {
            auto nl = rest.find('\n');
            add(rest.substr(0, nl));
            rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
        }
    }
    std::sort(needles_.begin(), needles_.end(),
              [](const std::string& a, const std::string& b) { return a.size() > b.size() || (a.size() == b.size() && a < b); });
    needles_.erase(std::unique(needles_.begin(), needles_.end()), needles_.end());
}

bool secret_mask::apply(std::string& text) const {
    bool changed = false;
    for (const auto& needle : needles_) {
        for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + secret_placeholder.size())) {
            text.replace(at, needle.size(), secret_placeholder);
            changed = true;
        }
    }
    return changed;
}

void secret_mask::apply(json& value) const {
    if (empty()) return;
    if (value.is_string()) {
        apply(value.get_ref<std::string&>());
    } else if (value.is_array()) {
        for (auto& item : value) apply(item);
    } else if (value.is_object()) {
        json masked = json::object();
        for (auto& [key, item] : value.items()) {
            std::string k = key;
            apply(k);
            apply(item);
            masked[k] = std::move(item);
        }
        value = std::move(masked);
    }
}

}  // namespace orbitmesh::core
