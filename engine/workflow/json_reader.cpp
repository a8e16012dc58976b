#include "engine/workflow/json_reader.hpp"

#include <algorithm>
#include <iterator>

namespace orbitmesh::engine {

namespace {

// A char iterator that publishes how far the parser has read, so SAX callbacks know where
// they are in the text.
class counting_iterator {
public:
    using iterator_category = std::input_iterator_tag;
    using value_type = char;
    using difference_type = std::ptrdiff_t;
    using pointer = const char*;
    using reference = const char&;

    counting_iterator(const char* p, const char* base, std::size_t* reached) : p_(p), base_(base), reached_(reached) {}
    reference operator*() const { return *p_; }
    counting_iterator& operator++() {
        ++p_;
        *reached_ = static_cast<std::size_t>(p_ - base_);
        return *this;
    }
    counting_iterator operator++(int) {
        counting_iterator old = *this;
        ++*this;
        return old;
    }
    bool operator==(const counting_iterator& o) const { return p_ == o.p_; }
    bool operator!=(const counting_iterator& o) const { return p_ != o.p_; }

private:
    const char* p_;
    const char* base_;
    std::size_t* reached_;
};

class line_index {
public:
    explicit line_index(std::string_view text) {
        starts_.push_back(0);
        for (std::size_t i = 0; i < text.size(); ++i)
            if (text[i] == '\n') starts_.push_back(i + 1);
    }
    // Position of the byte at `offset` (clamped to the text).
    core::source_pos at(std::size_t offset) const {
        auto it = std::upper_bound(starts_.begin(), starts_.end(), offset);
        const auto line = static_cast<std::size_t>(it - starts_.begin());
        return {static_cast<int>(line), static_cast<int>(offset - starts_[line - 1] + 1)};
    }

private:
    std::vector<std::size_t> starts_;
};

class tree_sax {
public:
    tree_sax(tree_assembler& tree, const line_index& lines, const std::size_t& reached)
        : tree_(tree), lines_(lines), reached_(reached) {}

    bool null() { return add(source_node::kind::null, {}, false, 1); }
    bool boolean(bool v) { return add(source_node::kind::scalar, v ? "true" : "false", false, 1); }
    bool number_integer(std::int64_t v) { return add(source_node::kind::scalar, std::to_string(v), false, 1); }
    bool number_unsigned(std::uint64_t v) { return add(source_node::kind::scalar, std::to_string(v), false, 1); }
    bool number_float(double, const std::string& raw) { return add(source_node::kind::scalar, raw, false, 1); }
    bool string(std::string& s) {
        const std::size_t width = s.size() + 2;
        return add(source_node::kind::scalar, std::move(s), true, width);
    }
    bool binary(core::json::binary_t&) { return false; }
    bool start_object(std::size_t) { return open(source_node::kind::mapping); }
    bool start_array(std::size_t) { return open(source_node::kind::sequence); }
    bool end_object() { return close(); }
    bool end_array() { return close(); }
    bool key(std::string& k) {
        const std::size_t width = k.size() + 2;
        tree_.key(std::move(k), start_of(width));
        return true;
    }
    bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) {
        std::string what = e.what();
        // nlohmann prefixes "[json.exception.parse_error.101] parse error at line 1, column 2: "
        if (auto colon = what.find(": "); colon != std::string::npos) what = what.substr(colon + 2);
        throw source_error(lines_.at(position > 0 ? position - 1 : 0), "JSON syntax error: " + what);
    }

private:
    // Where a token of `width` bytes that ended at the current offset started (approximate when
    // escapes or a look-ahead byte are involved; the line is what matters).
    core::source_pos start_of(std::size_t width) const {
        const std::size_t end = reached_ > 0 ? reached_ - 1 : 0;
        core::source_pos p = lines_.at(end);
        p.column = std::max(1, p.column - static_cast<int>(width) + 1);
        return p;
    }

    bool add(source_node::kind k, std::string text, bool quoted, std::size_t width) {
        source_node n;
        n.type = k;
        n.text = std::move(text);
        n.quoted = quoted;
        n.pos = start_of(width);
        tree_.value(std::move(n));
        return true;
    }
    bool open(source_node::kind k) {
        tree_.open(k, start_of(1));
        return true;
    }
    bool close() {
        tree_.close();
        return true;
    }

    tree_assembler& tree_;
    const line_index& lines_;
    const std::size_t& reached_;
};

}  // namespace

source_node read_json(std::string_view text, const reader_limits& limits) {
    if (text.find_first_not_of(" \t\r\n") == std::string_view::npos)
        throw source_error({1, 1}, "file is empty", "a workflow needs at least \"steps\"");
    const line_index lines(text);
    std::size_t reached = 0;
    tree_assembler tree(limits);
    tree_sax sax(tree, lines, reached);
    const char* base = text.data();
    counting_iterator first(base, base, &reached), last(base + text.size(), base, &reached);
    core::json::sax_parse(first, last, &sax);
    auto root = tree.take();
    if (!root) throw source_error({1, 1}, "file is empty", "a workflow needs at least \"steps\"");
    return std::move(*root);
}

}  // namespace orbitmesh::engine
