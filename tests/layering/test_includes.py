"""STYLE.md §1 as a test: folder arrows point one way. The real tree must have no forbidden
include, and the checker must catch each kind of one (so this test can fail)."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import check_includes  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_the_source_tree_has_no_forbidden_include():
    problems = check_includes.check(ROOT)
    assert not problems, "forbidden includes (STYLE.md §1):\n" + "\n".join(problems)


@pytest.mark.parametrize("path, include, why", [
    ("core/x.cpp", '"store/event_store.hpp"', "core/ is plain types"),
    ("core/x.cpp", "<boost/asio.hpp>", "core/ may not use boost"),
    ("store/x.cpp", '"transport/codec.hpp"', "store/ sits on core/ only"),
    ("transport/x.cpp", '"store/event_store.hpp"', "transport/ sits on core/ only"),
    ("transport/x.cpp", "<sqlite3.h>", "SQLite belongs to store/"),
    ("engine/hub/x.cpp", '"engine/workflow/runner.hpp"', "engine/hub never includes engine/workflow"),
    ("engine/hub/x.cpp", '"engine/agent/job_runner.hpp"', "engine/hub never includes"),
    ("engine/agent/x.cpp", '"engine/hub/hub.hpp"', "engine/agent is the worker runtime"),
    ("engine/workflow/x.cpp", '"engine/agent/handler.hpp"', "not engine/agent"),
    ("engine/workflow/x.cpp", '"cli/output.hpp"', "engine/workflow may use"),
    ("engine/hub/x.cpp", "<boost/beast/websocket.hpp>", "through transport/asio.hpp"),
    ("engine/agent/x.cpp", "<SQLiteCpp/Database.h>", "SQLite belongs to store/"),
    ("engine/hub/x.cpp", '"transport/ws_link.hpp"', "carries Beast"),
    ("engine/hub/x.cpp", '"store/sqlite/connection.hpp"', "behind store/'s interfaces"),
])
def test_each_kind_of_forbidden_include_is_caught(tmp_path, path, include, why):
    for folder in ("core", "store", "transport", "engine", "cli"):
        (tmp_path / folder).mkdir()
    target = tmp_path / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(f'#include "core/json.hpp"\n#include <vector>\n  #  include {include}\n')
    problems = check_includes.check(str(tmp_path))
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{path}:3: #include {include}: "), problems
    assert why in problems[0], problems


@pytest.mark.parametrize("path, include", [
    ("engine/workflow/x.cpp", '"engine/hub/job_port.hpp"'),
    ("engine/serve/x.cpp", '"engine/workflow/runner.hpp"'),
    ("engine/agent/x.cpp", '"transport/asio.hpp"'),
    ("engine/agent/x.cpp", '"store/outbox.hpp"'),
    ("transport/x.cpp", '"transport/beast.hpp"'),
    ("store/x.cpp", "<SQLiteCpp/Database.h>"),
    ("cli/x.cpp", "<CLI/CLI.hpp>"),
    ("cli/x.cpp", '"engine/serve/hub_server.hpp"'),
])
def test_the_arrows_that_point_down_are_allowed(tmp_path, path, include):
    target = tmp_path / path
    target.parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / "core").mkdir(exist_ok=True)
    target.write_text(f"#include {include}\n")
    assert check_includes.check(str(tmp_path)) == []
