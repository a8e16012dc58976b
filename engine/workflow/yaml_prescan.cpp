#include "engine/workflow/yaml_prescan.hpp"

#include <string>
#include <vector>

#include "engine/workflow/source_node.hpp"

namespace orbitmesh::engine {

namespace {

class depth_scanner {
public:
    explicit depth_scanner(std::size_t max_depth) : max_(max_depth) {}

    void line(std::string_view l, int number) {
        line_ = number;
        if (flow_ > 0) {
            scan_flow(l, 0);
            return;
        }
        std::size_t indent = 0;
        while (indent < l.size() && l[indent] == ' ') ++indent;
        if (indent == l.size() || l[indent] == '#') return;  // blank or comment
        if (block_scalar_col_ >= 0) {
            if (static_cast<long>(indent) > block_scalar_col_) return;  // text of a | or > scalar
            block_scalar_col_ = -1;
        }
        if (indent == 0 && (l.rfind("---", 0) == 0 || l.rfind("...", 0) == 0 || l[0] == '%')) return;
        while (!indents_.empty() && indents_.back() >= indent) indents_.pop_back();
        indents_.push_back(indent);
        std::size_t pos = indent, dashes = 0, owner_col = indent;
        while (pos < l.size() && l[pos] == '-' && (pos + 1 == l.size() || l[pos + 1] == ' ')) {
            ++dashes;
            owner_col = pos;
            pos = skip_spaces(l, pos + 1);
        }
        check(indents_.size() + dashes);
        scan_value(l, pos, owner_col, indents_.size() + dashes);
    }

private:
    static std::size_t skip_spaces(std::string_view l, std::size_t pos) {
        while (pos < l.size() && l[pos] == ' ') ++pos;
        return pos;
    }

    static std::size_t skip_quoted(std::string_view l, std::size_t pos) {
        const char q = l[pos];
        for (++pos; pos < l.size(); ++pos) {
            if (q == '"' && l[pos] == '\\') ++pos;
            else if (l[pos] == q) return pos + 1;
        }
        return l.size();
    }

    void check(std::size_t depth) const {
        if (depth > max_)
            throw source_error({line_, 0}, "nesting is deeper than " + std::to_string(max_) + " levels",
                               "flatten the structure; deeper files are refused to protect the loader");
    }

    // A value in block context starting at `pos`: flow collection, quoted text, block scalar,
    // or plain text that may be a key followed by another value. `owner_col` is the column a
    // block scalar's text must be indented past.
    void scan_value(std::string_view l, std::size_t pos, std::size_t owner_col, std::size_t depth) {
        while (pos < l.size()) {
            const char c = l[pos];
            if (c == '#') return;
            if (c == '[' || c == '{') {
                base_ = depth;
                scan_flow(l, pos);
                return;
            }
            if (c == '|' || c == '>') {
                block_scalar_col_ = static_cast<long>(owner_col);
                return;
            }
            std::size_t end = c == '"' || c == '\'' ? skip_quoted(l, pos) : pos;
            const std::size_t colon = find_key_colon(l, end);
            if (colon == std::string_view::npos) return;  // plain or quoted scalar to the end of the line
            owner_col = pos;
            ++depth;  // the value of `key:` is one level down
            check(depth);
            pos = skip_spaces(l, colon + 1);
        }
    }

    // The `:` that ends a key (followed by a space or the end of line), before any comment.
    static std::size_t find_key_colon(std::string_view l, std::size_t pos) {
        for (; pos < l.size(); ++pos) {
            if (l[pos] == '#' && pos > 0 && l[pos - 1] == ' ') return std::string_view::npos;
            if (l[pos] == ':' && (pos + 1 == l.size() || l[pos + 1] == ' ')) return pos;
        }
        return std::string_view::npos;
    }

    void scan_flow(std::string_view l, std::size_t pos) {
        while (pos < l.size()) {
            const char c = l[pos];
            if (c == '"' || c == '\'') {
                pos = skip_quoted(l, pos);
                continue;
            }
            if (c == '#' && (pos == 0 || l[pos - 1] == ' ')) return;
            if (c == '[' || c == '{') check(base_ + ++flow_);
            if ((c == ']' || c == '}') && flow_ > 0 && --flow_ == 0) return;
            ++pos;
        }
    }

    std::size_t max_;
    int line_ = 0;
    std::size_t flow_ = 0;
    std::size_t base_ = 0;         // block depth where the current flow collection started
    long block_scalar_col_ = -1;   // >= 0 while inside a | or > scalar
    std::vector<std::size_t> indents_;
};

}  // namespace

void prescan_yaml_depth(std::string_view text, std::size_t max_depth) {
    depth_scanner scanner(max_depth);
    int number = 0;
    for (std::size_t start = 0; start <= text.size();) {
        std::size_t end = text.find('\n', start);
        if (end == std::string_view::npos) end = text.size();
        std::string_view l = text.substr(start, end - start);
        if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
        scanner.line(l, ++number);
        start = end + 1;
    }
}

}  // namespace orbitmesh::engine
