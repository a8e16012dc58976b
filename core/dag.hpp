#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace orbitmesh::core {

/// One node of a dependency graph: its id and the ids it needs (must finish before it).
/// Views only: the strings must outlive the check.
struct dag_node {
    std::string_view id;
    std::vector<std::string_view> needs;
};

struct dag_problem {
    enum class kind { duplicate_id, unknown_dependency, self_dependency, cycle };
    kind type = kind::duplicate_id;
    std::size_t node = 0;         // index of the offending node (for a cycle: its first node)
    std::size_t first = 0;        // duplicate_id: index of the earlier node with that id
    std::string dependency;       // unknown_dependency / self_dependency: the id as written
    std::string suggestion;       // unknown_dependency: the nearest existing id, or ""
    std::vector<std::string> cycle;  // cycle: ids in dependency order, first repeated last
};

/// Result of check_dag. `order` lists node indexes so that every node comes after the nodes it
/// needs, ties kept in input order; it is empty when the graph has a cycle.
struct dag_report {
    std::vector<dag_problem> problems;
    std::vector<std::size_t> order;
    bool ok() const noexcept { return problems.empty(); }
};

/// Finds duplicate ids, unknown dependencies (with a "did you mean"), self-dependencies and
/// every cycle (one per strongly connected component, printed as a path), and computes a
/// topological order. Linear in nodes + edges apart from the suggestions; no recursion, so
/// deep chains are safe. Pure and thread-safe.
dag_report check_dag(const std::vector<dag_node>& nodes);

/// `a -> b -> c -> a`.
std::string format_cycle(const std::vector<std::string>& cycle);

}  // namespace orbitmesh::core
