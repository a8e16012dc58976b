#include "transport/codec.hpp"

#include <algorithm>

#include <msgpack.hpp>

#include "core/protocol.hpp"

namespace orbitmesh::transport {
namespace {

using core::json;
namespace protocol = core::protocol;

[[noreturn]] void fail_msgpack(const std::string& detail) {
    throw frame_error(protocol::close_invalid, "invalid MessagePack frame: " + detail);
}

/// Builds a json value from msgpack-cxx's SAX-style parser. The parser keeps its own explicit
/// stack (no recursion) and this visitor refuses to go deeper than `max_depth`, so a frame of
/// nested 0x91 bytes stops at once. Sizes in headers are never used to reserve memory: every
/// node allocated corresponds to bytes actually present in the frame.
class json_builder : public msgpack::null_visitor {
public:
    json_builder(std::size_t max_depth, std::size_t frame_bytes) : max_depth_(max_depth), frame_bytes_(frame_bytes) {}

    json& root() { return root_; }
    const std::string& error() const { return error_; }

    bool visit_nil() { return put(json(nullptr)); }
    bool visit_boolean(bool v) { return put(json(v)); }
    bool visit_positive_integer(std::uint64_t v) { return put(json(v)); }
    bool visit_negative_integer(std::int64_t v) { return put(json(v)); }
    bool visit_float32(float v) { return put(json(static_cast<double>(v))); }
    bool visit_float64(double v) { return put(json(v)); }
    bool visit_str(const char* v, std::uint32_t size) {
        if (key_expected()) {
            levels_.back().key.assign(v, size);
            return true;
        }
        return put(json(std::string(v, size)));
    }
    bool visit_bin(const char* v, std::uint32_t size) {
        return put(json::binary(json::binary_t::container_type(v, v + size)));
    }
    bool visit_ext(const char* v, std::uint32_t size) {
        if (size == 0) return fail("empty ext value");
        auto subtype = static_cast<std::uint8_t>(v[0]);
        return put(json::binary(json::binary_t::container_type(v + 1, v + size), subtype));
    }
    bool start_array(std::uint32_t n) {
        if (!open(json::array())) return false;
        // Every element takes at least one byte of the frame, so this reserve stays bounded.
        levels_.back().node->get_ref<json::array_t&>().reserve(std::min<std::size_t>(n, frame_bytes_));
        return true;
    }
    bool end_array() { return close_level(); }
    bool start_map(std::uint32_t) { return open(json::object()); }
    bool start_map_key() {
        levels_.back().want_key = true;
        return true;
    }
    bool end_map_key() {
        levels_.back().want_key = false;
        return true;
    }
    bool end_map() { return close_level(); }
    void parse_error(std::size_t, std::size_t error_offset) {
        error_ = "unexpected byte at offset " + std::to_string(error_offset);
    }
    void insufficient_bytes(std::size_t, std::size_t error_offset) {
        error_ = "truncated at byte " + std::to_string(error_offset);
    }

private:
    struct level {
        json* node;
        bool want_key = false;
        std::string key;
    };

    bool key_expected() const { return !levels_.empty() && levels_.back().want_key; }

    bool fail(std::string reason) {
        error_ = std::move(reason);
        return false;
    }

    /// Places `v` where the parser is; returns where it went, or nullptr on a bad key.
    json* place(json v) {
        if (levels_.empty()) {
            root_ = std::move(v);
            return &root_;
        }
        level& top = levels_.back();
        if (top.want_key) return nullptr;
        if (top.node->is_array()) {
            top.node->push_back(std::move(v));
            return &top.node->back();
        }
        auto& object = top.node->get_ref<json::object_t&>();
        return &object.insert_or_assign(std::move(top.key), std::move(v)).first->second;
    }

    bool put(json v) { return place(std::move(v)) != nullptr || fail("map key is not a string"); }

    bool open(json container) {
        if (levels_.size() >= max_depth_)
            return fail("nested deeper than " + std::to_string(max_depth_) + " levels");
        json* node = place(std::move(container));
        if (node == nullptr) return fail("map key is not a string");
        levels_.push_back(level{node, false, {}});
        return true;
    }

    bool close_level() {
        levels_.pop_back();
        return true;
    }

    std::size_t max_depth_;
    std::size_t frame_bytes_;
    json root_;
    std::vector<level> levels_;
    std::string error_;
};

json parse_msgpack(std::string_view bytes, std::size_t max_depth) {
    if (bytes.empty()) fail_msgpack("empty frame");
    json_builder builder(max_depth, bytes.size());
    std::size_t offset = 0;
    bool ok = false;
    try {
        ok = msgpack::parse(bytes.data(), bytes.size(), offset, builder);
    } catch (const std::exception& e) {  // bad_alloc, msgpack size errors: never past the session
        fail_msgpack(e.what());
    }
    if (!ok) fail_msgpack(builder.error().empty() ? "cannot parse" : builder.error());
    if (offset != bytes.size())
        fail_msgpack(std::to_string(bytes.size() - offset) + " trailing bytes after the value");
    return std::move(builder.root());
}

/// Deepest nesting of `[`/`{` outside strings, stopping as soon as it passes `limit`.
std::size_t json_depth(std::string_view text, std::size_t limit) {
    std::size_t depth = 0;
    bool in_string = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (in_string) {
            if (c == '\\') ++i;
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > limit) return depth;
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
    }
    return 0;
}

json parse_json_text(std::string_view text, std::size_t max_depth) {
    // nlohmann's parser does not recurse, but a cheap pre-scan keeps a nesting bomb from
    // building a million containers first.
    if (json_depth(text, max_depth) > max_depth)
        throw frame_error(protocol::close_invalid,
                          "invalid JSON frame: nested deeper than " + std::to_string(max_depth) + " levels");
    try {
        return json::parse(text);
    } catch (const std::exception& e) {
        throw frame_error(protocol::close_invalid, std::string("invalid JSON frame: ") + e.what());
    }
}

void check_message(const json& m) {
    if (!m.is_object()) throw frame_error(protocol::close_invalid, "message is not a map");
    auto t = m.find("t");
    if (t == m.end() || !t->is_string())
        throw frame_error(protocol::close_invalid, "message has no string field \"t\"");
}

/// Lets msgpack-cxx's packer append to a std::string.
struct string_sink {
    std::string& out;
    void write(const char* data, std::size_t size) { out.append(data, size); }
};

void append_msgpack_array_header(std::string& out, std::size_t n) {
    string_sink sink{out};
    msgpack::packer<string_sink>(sink).pack_array(static_cast<std::uint32_t>(n));
}

}  // namespace

std::vector<core::json> decode_frame(std::string_view bytes, bool json_text, std::size_t max_depth) {
    json value = json_text ? parse_json_text(bytes, max_depth) : parse_msgpack(bytes, max_depth);
    std::vector<json> out;
    if (value.is_array()) {
        out.reserve(value.size());
        for (auto& m : value) {
            check_message(m);
            out.push_back(std::move(m));
        }
    } else {
        check_message(value);
        out.push_back(std::move(value));
    }
    return out;
}

std::string encode_message(const core::json& msg, bool json_text) {
    if (json_text) return msg.dump(-1, ' ', false, json::error_handler_t::replace);
    std::string out;
    json::to_msgpack(msg, nlohmann::detail::output_adapter<char>(out));
    return out;
}

std::string join_encoded(const std::vector<std::string>& encoded, bool json_text) {
    if (encoded.size() == 1) return encoded.front();
    std::size_t total = 5 + encoded.size();
    for (const auto& e : encoded) total += e.size();
    std::string frame;
    frame.reserve(total);
    if (json_text) {
        frame.push_back('[');
        for (std::size_t i = 0; i < encoded.size(); ++i) {
            if (i > 0) frame.push_back(',');
            frame += encoded[i];
        }
        frame.push_back(']');
        return frame;
    }
    append_msgpack_array_header(frame, encoded.size());
    for (const auto& e : encoded) frame += e;
    return frame;
}

std::string encode_frame(const std::vector<core::json>& msgs, bool json_text) {
    std::vector<std::string> encoded;
    encoded.reserve(msgs.size());
    for (const auto& m : msgs) encoded.push_back(encode_message(m, json_text));
    return join_encoded(encoded, json_text);
}

}  // namespace orbitmesh::transport
