#include "core/dag.hpp"

#include <algorithm>
#include <deque>
#include <unordered_map>

#include "core/workflow_suggest.hpp"

namespace orbitmesh::core {

namespace {

constexpr std::size_t none = static_cast<std::size_t>(-1);
constexpr std::size_t max_suggestions = 200;  // beyond this, "did you mean" is not worth O(n) each

using index_map = std::unordered_map<std::string_view, std::size_t>;
using edge_list = std::vector<std::vector<std::size_t>>;  // node -> nodes it needs

index_map index_ids(const std::vector<dag_node>& nodes, std::vector<dag_problem>& problems) {
    index_map ids;
    ids.reserve(nodes.size() * 2);
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        auto [it, inserted] = ids.emplace(nodes[i].id, i);
        if (!inserted) {
            dag_problem p;
            p.type = dag_problem::kind::duplicate_id;
            p.node = i;
            p.first = it->second;
            problems.push_back(std::move(p));
        }
    }
    return ids;
}

edge_list resolve_edges(const std::vector<dag_node>& nodes, const index_map& ids, std::vector<dag_problem>& problems) {
    edge_list edges(nodes.size());
    std::vector<std::string_view> all_ids;
    std::size_t suggested = 0;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        for (auto dep : nodes[i].needs) {
            auto it = ids.find(dep);
            if (it != ids.end() && it->second != i) {
                edges[i].push_back(it->second);
                continue;
            }
            dag_problem p;
            p.node = i;
            p.dependency = std::string(dep);
            if (it != ids.end()) {
                p.type = dag_problem::kind::self_dependency;
            } else {
                p.type = dag_problem::kind::unknown_dependency;
                if (all_ids.empty())
                    for (const auto& n : nodes) all_ids.push_back(n.id);
                if (suggested++ < max_suggestions) p.suggestion = closest_name(dep, all_ids).value_or("");
            }
            problems.push_back(std::move(p));
        }
    }
    return edges;
}

// Pops the component rooted at `v` off Tarjan's stack.
std::vector<std::size_t> pop_component(std::vector<std::size_t>& stack, std::vector<bool>& on_stack, std::size_t v) {
    std::vector<std::size_t> component;
    std::size_t w = none;
    do {
        w = stack.back();
        stack.pop_back();
        on_stack[w] = false;
        component.push_back(w);
    } while (w != v);
    return component;
}

// Tarjan's strongly connected components, iterative so a 10,000-long chain cannot overflow
// the stack. Returns the components that contain a cycle (size > 1; self-edges are excluded
// earlier and reported on their own).
std::vector<std::vector<std::size_t>> cyclic_components(const edge_list& edges) {
    const std::size_t n = edges.size();
    std::vector<std::size_t> index(n, none), low(n, 0), stack, next_edge(n, 0);
    std::vector<bool> on_stack(n, false);
    std::vector<std::vector<std::size_t>> result;
    std::size_t counter = 0;
    auto visit = [&](std::size_t v, std::vector<std::size_t>& call) {
        index[v] = low[v] = counter++;
        stack.push_back(v);
        on_stack[v] = true;
        call.push_back(v);
    };
    for (std::size_t root = 0; root < n; ++root) {
        if (index[root] != none) continue;
        std::vector<std::size_t> call;
        visit(root, call);
        while (!call.empty()) {
            const std::size_t v = call.back();
            if (next_edge[v] < edges[v].size()) {
                const std::size_t w = edges[v][next_edge[v]++];
                if (index[w] == none) visit(w, call);
                else if (on_stack[w]) low[v] = std::min(low[v], index[w]);
                continue;
            }
            call.pop_back();
            if (!call.empty()) low[call.back()] = std::min(low[call.back()], low[v]);
            if (low[v] != index[v]) continue;
            auto component = pop_component(stack, on_stack, v);
            if (component.size() > 1) result.push_back(std::move(component));
        }
    }
    return result;
}

// A shortest cycle through the component's first node (in input order), found by BFS along
// dependency edges that stay inside the component.
std::vector<std::size_t> cycle_path(const edge_list& edges, std::vector<std::size_t> component) {
    std::sort(component.begin(), component.end());
    const std::size_t start = component.front();
    std::unordered_map<std::size_t, std::size_t> parent;
    for (auto c : component) parent.emplace(c, none);
    std::deque<std::size_t> queue{start};
    std::size_t last = none;
    while (!queue.empty() && last == none) {
        const std::size_t v = queue.front();
        queue.pop_front();
        for (auto w : edges[v]) {
            if (w == start) {
                last = v;
                break;
            }
            auto it = parent.find(w);
            if (it == parent.end() || it->second != none) continue;
            it->second = v;
            queue.push_back(w);
        }
    }
    std::vector<std::size_t> path;
    for (std::size_t v = last; v != none && v != start; v = parent[v]) path.push_back(v);
    path.push_back(start);
    std::reverse(path.begin(), path.end());
    path.push_back(start);
    return path;
}

// Kahn's algorithm; ready nodes are taken lowest index first so the order follows the file.
std::vector<std::size_t> topological_order(const edge_list& edges) {
    const std::size_t n = edges.size();
    std::vector<std::size_t> missing(n, 0);
    std::vector<std::vector<std::size_t>> dependents(n);
    for (std::size_t v = 0; v < n; ++v) {
        missing[v] = edges[v].size();
        for (auto w : edges[v]) dependents[w].push_back(v);
    }
    std::vector<std::size_t> ready, order;
    for (std::size_t v = n; v-- > 0;)
        if (missing[v] == 0) ready.push_back(v);
    std::make_heap(ready.begin(), ready.end(), std::greater<>());
    while (!ready.empty()) {
        std::pop_heap(ready.begin(), ready.end(), std::greater<>());
        const std::size_t v = ready.back();
        ready.pop_back();
        order.push_back(v);
        for (auto d : dependents[v])
            if (--missing[d] == 0) {
                ready.push_back(d);
                std::push_heap(ready.begin(), ready.end(), std::greater<>());
            }
    }
    if (order.size() != n) order.clear();
    return order;
}

}  // namespace

dag_report check_dag(const std::vector<dag_node>& nodes) {
    dag_report report;
    const index_map ids = index_ids(nodes, report.problems);
    const edge_list edges = resolve_edges(nodes, ids, report.problems);
    for (auto& component : cyclic_components(edges)) {
        const auto path = cycle_path(edges, std::move(component));
        dag_problem p;
        p.type = dag_problem::kind::cycle;
        p.node = path.front();
        for (auto v : path) p.cycle.emplace_back(nodes[v].id);
        report.problems.push_back(std::move(p));
    }
    report.order = topological_order(edges);
    return report;
}

std::string format_cycle(const std::vector<std::string>& cycle) {
    std::string out;
    for (const auto& id : cycle) {
        if (!out.empty()) out += " -> ";
        out += id;
    }
    return out;
}

}  // namespace orbitmesh::core
