#!/usr/bin/python3
"""The forbidden-include check of STYLE.md §1: folders own one layer each and arrows point one
way (cli -> engine -> {store, transport} -> core). Reads every #include of the source tree and
prints one line per include a folder may not use; exits 1 when there is any, 0 otherwise.

  check_includes.py [ROOT]      (default: the checkout this file lives in)
"""

import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
SOURCES = (".cpp", ".hpp", ".h", ".cc")

# Third-party headers by the library they belong to (the first path part, or the file name).
THIRD_PARTY = {
    "nlohmann": "nlohmann", "boost": "boost", "SQLiteCpp": "sqlite", "sqlite3.h": "sqlite",
    "msgpack.hpp": "msgpack", "msgpack": "msgpack", "yaml-cpp": "yaml-cpp", "CLI": "CLI11",
    "openssl": "openssl", "libpq-fe.h": "libpq", "spdlog": "spdlog", "catch2": "catch2",
}

# transport/ headers that carry Beast or Asio internals: for transport/ itself only.
TRANSPORT_PRIVATE = {"transport/beast.hpp", "transport/ws_link.hpp", "transport/ws_session.hpp",
                     "transport/http_session.hpp", "transport/server_context.hpp"}
# store/ headers behind its interfaces (event_store.hpp, outbox.hpp): for store/ itself only.
STORE_PRIVATE_PREFIXES = ("store/sqlite/", "store/postgres/", "store/commit_queue", "store/open_backend", "store/batch_writer", "store/event_reader", "store/schema")

# folder -> (project folders it may include, third-party libraries it may include). The longest
# matching folder wins, so engine/hub is stricter than engine/.
RULES = {
    "core": ({"core"}, {"nlohmann"}),
    "store": ({"core", "store"}, {"nlohmann", "sqlite", "msgpack", "openssl", "libpq"}),  # openssl: the event chain's SHA-256
    "transport": ({"core", "transport"}, {"nlohmann", "boost", "msgpack", "openssl"}),
    "engine/hub": ({"core", "store", "transport", "engine/hub"}, {"nlohmann"}),
    "engine/agent": ({"core", "store", "transport", "engine/agent"}, {"nlohmann"}),
    "engine/workflow": ({"core", "store", "transport", "engine/workflow", "engine/hub"}, {"nlohmann", "yaml-cpp"}),
    "engine/serve": ({"core", "store", "transport", "engine"}, {"nlohmann"}),
    "engine": ({"core", "store", "transport", "engine"}, {"nlohmann", "yaml-cpp"}),
    "cli": ({"core", "store", "transport", "engine", "cli"}, {"nlohmann", "CLI11", "yaml-cpp"}),
}
WHY = {
    "core": "core/ is plain types and rules: std and nlohmann only",
    "store": "store/ sits on core/ only (never transport/ or engine/)",
    "transport": "transport/ sits on core/ only (never store/ or engine/)",
    "engine/hub": "engine/hub never includes engine/workflow or engine/agent (engine/serve wires them)",
    "engine/agent": "engine/agent is the worker runtime: no hub or workflow code",
    "engine/workflow": "engine/workflow may use engine/hub's interfaces, not engine/agent",
    "engine": "engine/ includes store/ and transport/ interfaces only, Asio through transport/asio.hpp",
    "cli": "cli/ may include everything",
}


def folder_of(rel):
    """The rule that governs a file (relative path with '/'), or None for files outside them."""
    best = None
    for folder in RULES:
        if rel.startswith(folder + "/") and (best is None or len(folder) > len(best)):
            best = folder
    return best


def project_folder(target, allowed):
    """The most specific allowed-list entry `target` falls under, else its first path part."""
    best = None
    for a in allowed:
        if target.startswith(a + "/") and (best is None or len(a) > len(best)):
            best = a
    return best


def violation(rel, rule, kind, target):
    """Why `rel` may not include `target`, or None."""
    allowed_dirs, allowed_libs = RULES[rule]
    first = target.split("/")[0]
    if kind == '"' and "/" in target and first in {"core", "store", "transport", "engine", "cli"}:
        if project_folder(target, allowed_dirs) is None:
            return WHY[rule]
        if target in TRANSPORT_PRIVATE and rule != "transport":
            return f"{target} carries Beast: only transport/*.cpp may include it"
        if target.startswith(STORE_PRIVATE_PREFIXES) and rule != "store":
            return f"{target} is behind store/'s interfaces (event_store.hpp, outbox.hpp)"
        return None
    lib = THIRD_PARTY.get(first)
    if lib is not None and lib not in allowed_libs:
        if lib == "boost" and rule.startswith("engine"):
            return "engine/ reaches Asio through transport/asio.hpp and never includes Beast"
        if lib == "sqlite":
            return "SQLite belongs to store/"
        return f"{rule}/ may not use {lib} ({WHY[rule]})"
    return None


def check(root):
    """Every forbidden include under `root`, as 'path:line: #include X: why' lines."""
    problems = []
    for folder in ("core", "store", "transport", "engine", "cli"):
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, folder)):
            dirnames.sort()
            for name in sorted(filenames):
                if not name.endswith(SOURCES):
                    continue
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, root).replace(os.sep, "/")
                rule = folder_of(rel)
                if rule is None:
                    continue
                with open(path, encoding="utf-8", errors="replace") as f:
                    for n, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if not m:
                            continue
                        why = violation(rel, rule, m.group(1), m.group(2))
                        if why:
                            close = ">" if m.group(1) == "<" else '"'
                            problems.append(f"{rel}:{n}: #include {m.group(1)}{m.group(2)}{close}: {why}")
    return problems


def main(argv):
    root = argv[1] if len(argv) > 1 else os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    if not os.path.isdir(os.path.join(root, "core")):
        print(f"check_includes: error: {root} has no core/ folder (give the source root)", file=sys.stderr)
        return 2
    problems = check(root)
    for p in problems:
        print(p)
    print(f"check_includes: {len(problems)} forbidden include(s)", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
