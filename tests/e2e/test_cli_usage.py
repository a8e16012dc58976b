"""The command line as a user meets it: version, --help everywhere, usage errors, exit codes."""

import re

import pytest

from e2e_helpers import assert_one_error_line, stderr_lines

# The commands of SPEC §1 that the job orchestrator (hub, agent, jobs) ships. The workflow,
# replay, event, twin and token commands come with their own issues; every subcommand the binary
# lists in its --help is checked too (test_help_works_for_every_listed_subcommand).
SUBCOMMANDS = [
    ["serve"], ["agent"], ["status"],
    ["job"], ["job", "submit"], ["job", "get"], ["job", "cancel"], ["job", "logs"],
    ["job", "list"], ["job", "retry"],
    ["version"], ["completions"],
]


def listed_subcommands(mesh, words):
    """Names in the `Subcommands:` section of `orbitmesh WORDS --help`."""
    rc, out, err = mesh.cli(*words, "--help", timeout=10)
    names, inside = [], False
    for line in out.splitlines():
        if line.strip().lower().startswith("subcommands"):
            inside = True
            continue
        if inside:
            if not line.strip():
                break
            m = re.match(r"^  (\S+)", line)  # deeper indents continue a description
            if m:
                names.append(m.group(1))
    return names


def test_version_exits_0_and_prints_the_version(mesh):
    rc, out, err = mesh.cli("version", timeout=10)
    assert rc == 0, f"orbitmesh version: exit {rc}, stderr={err!r}"
    assert re.search(r"\d+\.\d+\.\d+", out), f"no version number on stdout: {out!r}"


def test_top_level_help_documents_the_exit_codes(mesh):
    rc, out, err = mesh.cli("--help", timeout=10)
    assert rc == 0, f"orbitmesh --help: exit {rc}, stderr={err!r}"
    for word in ("serve", "agent", "job", "status"):
        assert word in out, f"`orbitmesh --help` does not mention {word!r}:\n{out}"
    assert "130" in out, f"`orbitmesh --help` does not document the exit codes (no 130):\n{out}"


@pytest.mark.parametrize("words", SUBCOMMANDS, ids=lambda w: "-".join(w))
def test_help_works_for_every_subcommand(mesh, words):
    rc, out, err = mesh.cli(*words, "--help", timeout=10)
    assert rc == 0, f"`orbitmesh {' '.join(words)} --help`: exit {rc}, stderr={err!r}"
    usage = f"orbitmesh {' '.join(words)}"
    assert "usage" in out.lower() and usage in out, \
        f"`{usage} --help` does not print that command's usage on stdout: {out[:300]!r}"


def test_help_works_for_every_listed_subcommand(mesh):
    top = listed_subcommands(mesh, [])
    assert "job" in top and "serve" in top, f"`orbitmesh --help` lists no subcommands: {top}"
    problems = []
    for name in top:
        for words in [[name]] + [[name, sub] for sub in listed_subcommands(mesh, [name])]:
            rc, out, err = mesh.cli(*words, "--help", timeout=10)
            usage = f"orbitmesh {' '.join(words)}"
            if rc != 0 or usage not in out:
                problems.append(f"`{usage} --help`: exit {rc}, stdout {out[:120]!r}")
    assert not problems, "\n".join(problems)


def test_unknown_subcommand_exits_2_with_did_you_mean(mesh):
    rc, out, err = mesh.cli("jbo", "list", timeout=10)
    line = assert_one_error_line(rc, out, err, 2, "orbitmesh jbo list")
    assert "did you mean" in line.lower(), f"no 'did you mean' in {line!r}"
    assert "job" in line, f"the suggestion does not name 'job': {line!r}"


def test_unknown_flag_exits_2_with_one_error_line(mesh):
    cmd = ("job", "submit", "--no-such-flag", "--", "echo", "hi")
    rc, out, err = mesh.cli(*cmd, server="http://127.0.0.1:1", timeout=10)
    assert_one_error_line(rc, out, err, 2, "orbitmesh " + " ".join(cmd))
    assert out == "", f"stdout must carry results only, got {out!r}"


def test_serve_with_a_nonsense_listen_address_exits_2(mesh):
    cmd = ("serve", "--listen", "nonsense", "--data-dir", mesh.path("serve-nonsense"))
    rc, out, err = mesh.cli(*cmd, timeout=10)
    assert_one_error_line(rc, out, err, 2, "orbitmesh " + " ".join(cmd))


def test_job_submit_without_a_command_exits_2(mesh):
    rc, out, err = mesh.cli("job", "submit", server="http://127.0.0.1:1", timeout=10)
    assert_one_error_line(rc, out, err, 2, "orbitmesh job submit")


def test_bad_on_agent_lost_value_exits_2(mesh, hub):
    cmd = ("job", "submit", "--on-agent-lost", "explode", "--", "echo", "hi")
    rc, out, err = mesh.cli(*cmd, hub=hub, timeout=10)
    assert_one_error_line(rc, out, err, 2, "orbitmesh " + " ".join(cmd))


def test_unreachable_hub_exits_3_with_exactly_one_line(mesh):
    cmd = ("job", "list", "--server", "http://127.0.0.1:1")
    rc, out, err = mesh.cli(*cmd, timeout=20)
    assert_one_error_line(rc, out, err, 3, "orbitmesh " + " ".join(cmd))
    assert out == "", f"stdout must be empty on error, got {out!r}"


def test_unreachable_hub_via_environment_exits_3(mesh):
    rc, out, err = mesh.cli("job", "submit", "--", "echo", "hi", server="http://127.0.0.1:1",
                            timeout=20)
    assert_one_error_line(rc, out, err, 3, "ORBITMESH_SERVER=http://127.0.0.1:1 orbitmesh job submit -- echo hi")


def test_server_flag_beats_the_environment(mesh, hub):
    # ORBITMESH_SERVER points nowhere; --server points at the real hub: the flag wins.
    rc, out, err = mesh.cli("job", "list", "--server", hub.url, "-o", "json",
                            server="http://127.0.0.1:1", timeout=20)
    assert rc == 0, f"job list --server {hub.url} with a bad ORBITMESH_SERVER: exit {rc}, {err!r}"


def test_completions_are_printed_for_each_shell(mesh):
    for shell in ("bash", "zsh", "fish"):
        rc, out, err = mesh.cli("completions", shell, timeout=10)
        assert rc == 0, f"orbitmesh completions {shell}: exit {rc}, stderr={err!r}"
        assert "orbitmesh" in out, f"completions {shell} do not mention orbitmesh: {out[:200]!r}"
        assert stderr_lines(err) == [], f"completions {shell} wrote to stderr: {err!r}"
