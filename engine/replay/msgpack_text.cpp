#include "engine/replay/msgpack_text.hpp"

#include <string_view>

namespace orbitmesh::engine::replay {

namespace {

constexpr int max_depth = 128;

bool write_value(core::json_text& w, const core::mp_value& v, int depth);

bool write_map(core::json_text& w, const core::mp_value& v, int depth) {
    bool ok = true;
    bool first = true;
    std::string_view previous;
    w.begin_object();
    v.for_each_entry([&](std::string_view key, const core::mp_value& value) {
        if (!ok) return;
        if (!first && !(previous < key)) {
            ok = false;
            return;
        }
        first = false;
        previous = key;
        w.key(key);
        ok = write_value(w, value, depth + 1);
    });
    w.end_object();
    return ok;
}

bool write_value(core::json_text& w, const core::mp_value& v, int depth) {
    if (depth > max_depth) return false;
    using k = core::mp_value::kind;
    switch (v.type()) {
    case k::nil: w.null(); return true;
    case k::boolean: w.boolean(v.as_bool()); return true;
    case k::integer:
        if (v.raw()[0] == 0xcf && v.raw()[1] >= 0x80) {  // above INT64_MAX: dump() prints it unsigned
            w.value(v.to_json());
            return true;
        }
        w.num(v.as_int());
        return true;
    case k::floating: w.value(core::json(v.as_double())); return true;
    case k::string: w.str(v.as_string()); return true;
    case k::array: {
        bool ok = true;
        w.begin_array();
        v.for_each_element([&](const core::mp_value& e) { ok = ok && write_value(w, e, depth + 1); });
        w.end_array();
        return ok;
    }
    case k::map: return write_map(w, v, depth);
    default: return false;
    }
}

}  // namespace

bool write_json(core::json_text& w, const core::mp_value& v) { return write_value(w, v, 0); }

}  // namespace orbitmesh::engine::replay
