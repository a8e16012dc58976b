#include "engine/workflow/yaml_reader.hpp"

#include <istream>
#include <streambuf>
#include <unordered_map>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include "engine/workflow/yaml_prescan.hpp"

namespace orbitmesh::engine {

namespace {

// Lets yaml-cpp read the caller's text without copying it into a stringstream.
class view_buffer : public std::streambuf {
public:
    explicit view_buffer(std::string_view text) {
        char* p = const_cast<char*>(text.data());
        setg(p, p, p + text.size());
    }
};

core::source_pos to_pos(const YAML::Mark& m) { return {m.line + 1, m.column + 1}; }

class tree_events : public YAML::EventHandler {
public:
    explicit tree_events(tree_assembler& tree) : tree_(tree) {}

    void OnDocumentStart(const YAML::Mark&) override {}
    void OnDocumentEnd() override {}

    void OnNull(const YAML::Mark& m, YAML::anchor_t anchor) override {
        source_node n;
        n.pos = to_pos(m);
        add(std::move(n), anchor);
    }

    void OnScalar(const YAML::Mark& m, const std::string& tag, YAML::anchor_t anchor, const std::string& value) override {
        source_node n;
        n.type = source_node::kind::scalar;
        n.text = value;
        n.quoted = tag == "!" || tag == "tag:yaml.org,2002:str";
        n.pos = to_pos(m);
        add(std::move(n), anchor);
    }

    void OnAlias(const YAML::Mark& m, YAML::anchor_t anchor) override {
        auto it = anchors_.find(anchor);
        if (it == anchors_.end())
            throw source_error(to_pos(m), "alias refers to its own anchor (a recursive alias)",
                               "an alias can only repeat a value that is already complete");
        if (tree_.wants_key()) {
            take_key(it->second.node);
            return;
        }
        tree_.value(it->second.node, it->second.weight, true);
    }

    void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t anchor, YAML::EmitterStyle::value) override {
        open(source_node::kind::sequence, m, anchor);
    }
    void OnSequenceEnd() override { close(); }

    void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t anchor, YAML::EmitterStyle::value) override {
        open(source_node::kind::mapping, m, anchor);
    }
    void OnMapEnd() override { close(); }

private:
    struct anchored {
        source_node node;
        std::size_t weight = 1;
    };
    struct open_frame {
        YAML::anchor_t anchor;
        std::size_t nodes_before;
    };

    void take_key(const source_node& n) {
        if (n.is_mapping() || n.is_sequence())
            throw source_error(n.pos, "a list or map used as a map key is not supported", "use a plain string as the key");
        tree_.key(n.text, n.pos);
    }

    void add(source_node n, YAML::anchor_t anchor) {
        if (tree_.wants_key()) {
            take_key(n);
            if (anchor != 0) anchors_[anchor] = {std::move(n), 1};
            return;
        }
        const source_node& placed = tree_.value(std::move(n));
        if (anchor != 0) anchors_[anchor] = {placed, 1};
    }

    void open(source_node::kind k, const YAML::Mark& m, YAML::anchor_t anchor) {
        if (tree_.wants_key())
            throw source_error(to_pos(m), "a list or map used as a map key is not supported", "use a plain string as the key");
        frames_.push_back({anchor, tree_.nodes()});
        tree_.open(k, to_pos(m));
    }

    void close() {
        const open_frame f = frames_.back();
        frames_.pop_back();
        source_node& placed = tree_.close();
        if (placed.is_mapping()) merge_keys(placed);
        if (f.anchor != 0) anchors_[f.anchor] = {placed, tree_.nodes() - f.nodes_before};
    }

    // YAML's `<<: *base` (or a list of them): copy in the keys the map does not set itself.
    static void merge_keys(source_node& map) {
        const source_node* merge = map.find("<<");
        if (merge == nullptr) return;
        std::vector<source_node> sources;
        if (merge->is_mapping()) sources.push_back(*merge);
        if (merge->is_sequence())
            for (const auto& s : merge->children)
                if (s.is_mapping()) sources.push_back(s);
        std::erase_if(map.children, [](const source_node& c) { return c.key == "<<"; });
        for (const auto& s : sources)
            for (const auto& entry : s.children)
                if (map.find(entry.key) == nullptr) map.children.push_back(entry);
    }

    tree_assembler& tree_;
    std::unordered_map<YAML::anchor_t, anchored> anchors_;
    std::vector<open_frame> frames_;
};

// Swallows the events of a second document: it is only there to be refused.
class ignore_events : public YAML::EventHandler {
public:
    void OnDocumentStart(const YAML::Mark&) override {}
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
    void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
    void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
    void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
    void OnMapEnd() override {}
};

}  // namespace

source_node read_yaml(std::string_view text, const reader_limits& limits) {
    prescan_yaml_depth(text, limits.max_depth);
    view_buffer buffer(text);
    std::istream in(&buffer);
    tree_assembler tree(limits);
    try {
        YAML::Parser parser(in);
        tree_events events(tree);
        if (!parser.HandleNextDocument(events))
            throw source_error({1, 1}, "file is empty", "a workflow needs at least `steps:`");
        ignore_events rest;
        if (parser.HandleNextDocument(rest))
            throw source_error({0, 0}, "file holds more than one YAML document (a second \"---\")",
                               "keep one workflow per file");
    } catch (const YAML::Exception& e) {
        throw source_error(to_pos(e.mark), "YAML syntax error: " + e.msg);
    }
    auto root = tree.take();
    if (!root) throw source_error({1, 1}, "file is empty", "a workflow needs at least `steps:`");
    return std::move(*root);
}

}  // namespace orbitmesh::engine
