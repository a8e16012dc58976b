#include "core/twin.hpp"

#include "core/error.hpp"

namespace orbitmesh::core {

std::string twin_stream(std::string_view agent_id) { return "twin-" + std::string(agent_id); }

void apply(twin_record& t, const event& e) {
    t.version = e.version;
    if (t.agent_id.empty() && e.stream.size() > 5) t.agent_id = e.stream.substr(5);
    if (e.type == twin_event::desired) {
        t.desired = merge_patch(std::move(t.desired), e.data.value("patch", json::object()));
        t.desired_version = e.data.value("version", t.desired_version + 1);
        t.desired_ms = e.time_ms;
    } else if (e.type == twin_event::reported) {
        auto r = e.data.value("reported", json::object());
        t.reported = r.is_object() ? std::move(r) : json::object();
        t.reported_version = e.data.value("version", t.reported_version + 1);
        t.reported_ms = e.time_ms;
    }
}

event make_twin_event(const twin_record& t, std::string_view type, json data, std::int64_t time_ms) {
    return make_event(twin_stream(t.agent_id), t.version, type, std::move(data), time_ms);
}

json merge_patch(json target, const json& patch) {
    if (!patch.is_object()) return patch;
    if (!target.is_object()) target = json::object();
    for (const auto& [k, v] : patch.items()) {
        if (v.is_null()) target.erase(k);
        else target[k] = merge_patch(target.contains(k) ? std::move(target[k]) : json(), v);
    }
    return target;
}

namespace {

// Whether `reported` holds everything `desired` asks for (objects: key by key, so reported
// labels may carry more than were asked for).
bool satisfied(const json& desired, const json& reported) {
    if (!desired.is_object()) return desired == reported;
    if (!reported.is_object()) return false;
    for (const auto& [k, v] : desired.items())
        if (!reported.contains(k) || !satisfied(v, reported[k])) return false;
    return true;
}

}  // namespace

json twin_drift(const twin_record& t) {
    json drift = json::object();
    for (const auto& [k, v] : t.desired.items()) {
        const json have = t.reported.contains(k) ? t.reported[k] : json();
        if (!satisfied(v, have)) drift[k] = {{"desired", v}, {"reported", have}};
    }
    return drift;
}

bool twin_draining(const twin_record& t) noexcept {
    auto it = t.desired.find("drain");
    return it != t.desired.end() && it->is_boolean() && it->get<bool>();
}

json to_json(const twin_record& t) {
    return {{"agent_id", t.agent_id},       {"desired", t.desired},   {"desired_version", t.desired_version},
            {"reported", t.reported},       {"reported_version", t.reported_version},
            {"drift", twin_drift(t)},       {"draining", twin_draining(t)}};
}

json twin_patch_from_words(const std::vector<std::string>& words) {
    json patch = json::object();
    for (const auto& w : words) {
        auto eq = w.find('=');
        if (eq == std::string::npos || eq == 0)
            throw error(error_kind::usage, "twin set: \"" + w + "\" is not KEY=VALUE (e.g. drain=true, labels.zone=eu)");
        const auto key = w.substr(0, eq);
        const auto text = w.substr(eq + 1);
        json value;
        if (!text.empty()) {
            try {
                value = json::parse(text);
            } catch (const json::exception&) {
                value = text;
            }
        }
        json* at = &patch;
        std::size_t from = 0;
        for (auto dot = key.find('.'); dot != std::string::npos; from = dot + 1, dot = key.find('.', from)) {
            auto part = key.substr(from, dot - from);
            if (part.empty()) throw error(error_kind::usage, "twin set: \"" + key + "\" has an empty part");
            if (!(*at)[part].is_object()) (*at)[part] = json::object();
            at = &(*at)[part];
        }
        if (key.substr(from).empty()) throw error(error_kind::usage, "twin set: \"" + key + "\" has an empty part");
        (*at)[key.substr(from)] = std::move(value);
    }
    return patch;
}

}  // namespace orbitmesh::core
