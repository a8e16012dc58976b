"""Man pages in man/ against the real binary: one page per subcommand listed by `orbitmesh --help`,
every long flag (and its default) of every `--help` in its page, and pages that render cleanly.

    /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/e2e/test_man_pages.py \
        --orbitmesh-bin build/cli/orbitmesh
"""

import os
import re
import shutil
import subprocess

import pytest

MAN_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir, "man")
MAN_DIR = os.path.normpath(MAN_DIR)
EXIT_CODES = ["0", "1", "2", "3", "4", "5", "130"]


def run_help(binary, words):
    cp = subprocess.run([binary, *words, "--help"], capture_output=True, text=True, timeout=10,
                        env=dict(os.environ, COLUMNS="200"))
    assert cp.returncode == 0, f"`orbitmesh {' '.join(words)} --help`: exit {cp.returncode}, stderr={cp.stderr!r}"
    return cp.stdout


def section(help_text, title):
    """Lines of one `Title:` section of CLI11's help (up to the next blank line)."""
    lines, inside = [], False
    for line in help_text.splitlines():
        if line.strip().lower() == title.lower() + ":":
            inside = True
            continue
        if inside:
            if not line.strip():
                break
            lines.append(line)
    return lines


def subcommands(help_text):
    return [m.group(1) for line in section(help_text, "Subcommands")
            if (m := re.match(r"^  (\S+)", line))]  # deeper indents continue a description


OPTION = re.compile(r"^\s+(?:-\w,)?(--[a-z][a-z0-9-]*)(?:\s+[A-Z]+(?::\{[^}]*\})?(?:\s\.\.\.)?(?:=(\S+))?)?")


def options(help_text):
    """(long flag, default or None) for every option line of a --help."""
    found = []
    for line in section(help_text, "Options"):
        m = OPTION.match(line)
        if m:
            found.append((m.group(1), m.group(2)))
    return found


def page_text(path):
    """The page's words with roff escapes undone: `\\-\\-server` -> `--server`, fonts dropped."""
    with open(path, encoding="utf-8") as f:
        src = f.read()
    src = re.sub(r"\\f(\[[^]]*\]|\(..|.)", "", src)  # font changes
    src = src.replace("\\-", "-").replace("\\&", "").replace("\\|", "").replace("\\c", "")
    src = src.replace("\\(aq", "'").replace("\\(dq", '"').replace("\\e", "\\")
    return src


def contains_flag(text, flag):
    return re.search(r"(?<![\w-])" + re.escape(flag) + r"(?![\w-])", text) is not None


@pytest.fixture(scope="module")
def top_help(orbitmesh_bin):
    return run_help(orbitmesh_bin, [])


def page_path(name):
    return os.path.join(MAN_DIR, name + ".1")


def man_pages():
    if not os.path.isdir(MAN_DIR):
        return []
    return sorted(os.path.join(MAN_DIR, f) for f in os.listdir(MAN_DIR) if f.endswith(".1"))


def test_every_listed_subcommand_has_a_page(top_help):
    names = subcommands(top_help)
    assert "job" in names and "serve" in names, f"`orbitmesh --help` lists no subcommands: {names}"
    missing = [f"man/orbitmesh-{n}.1" for n in names if not os.path.isfile(page_path("orbitmesh-" + n))]
    assert not missing, "no man page for: " + ", ".join(missing)


def test_main_page_names_every_command_and_the_exit_codes(top_help):
    path = page_path("orbitmesh")
    assert os.path.isfile(path), "man/orbitmesh.1 is missing"
    text = page_text(path)
    for name in subcommands(top_help):
        assert f"orbitmesh-{name}" in text, f"man/orbitmesh.1 does not refer to orbitmesh-{name}(1)"
    exit_section = text.split(".SH EXIT STATUS", 1)
    assert len(exit_section) == 2, "man/orbitmesh.1 has no EXIT STATUS section"
    body = exit_section[1].split(".SH ", 1)[0]
    for code in EXIT_CODES:
        assert re.search(r"^\.B " + code + r"$", body, re.M), f"EXIT STATUS of man/orbitmesh.1 lacks {code}"
    for word in ("ORBITMESH_SERVER", "ORBITMESH_TOKEN", "--token-file", "orbitmesh.db", "outbox.db", "agent_id"):
        assert word in text, f"man/orbitmesh.1 does not mention {word}"


@pytest.mark.deadline(60)
def test_every_long_flag_and_default_is_in_its_page(orbitmesh_bin, top_help):
    problems = []
    for name in subcommands(top_help):
        path = page_path("orbitmesh-" + name)
        if not os.path.isfile(path):
            continue  # reported by test_every_listed_subcommand_has_a_page
        text = page_text(path)
        cmd_help = run_help(orbitmesh_bin, [name])
        for words in [[name]] + [[name, sub] for sub in subcommands(cmd_help)]:
            help_text = cmd_help if len(words) == 1 else run_help(orbitmesh_bin, words)
            for flag, default in options(help_text):
                where = f"`orbitmesh {' '.join(words)} --help` lists {flag}"
                if not contains_flag(text, flag):
                    problems.append(f"{where}, but man/orbitmesh-{name}.1 does not mention it")
                elif default is not None and default not in text:
                    problems.append(f"{where} with default {default!r}, not in man/orbitmesh-{name}.1")
    assert not problems, "\n".join(problems)


def test_pages_use_man_macros_not_mdoc():
    pages = man_pages()
    assert pages, f"no man pages in {MAN_DIR}"
    for path in pages:
        with open(path, encoding="utf-8") as f:
            src = f.read()
        name = os.path.basename(path)
        assert re.search(r"^\.TH ", src, re.M), f"{name} has no .TH line"
        for sec in ("NAME", "SYNOPSIS", "DESCRIPTION", "SEE ALSO"):
            assert re.search(r"^\.SH " + sec + r"\s*$", src, re.M), f"{name} has no {sec} section"
        assert not re.search(r"^\.(Dd|Dt|Nm|Sh)\b", src, re.M), f"{name} uses mdoc macros; use man(7)"


@pytest.mark.deadline(60)
def test_pages_render_without_warnings():
    man = shutil.which("man")
    if not man or not shutil.which("groff"):
        pytest.skip("man or groff is not installed")
    env = dict(os.environ, LC_ALL="C.UTF-8", MANWIDTH="80")
    problems = []
    for path in man_pages():
        cp = subprocess.run([man, "--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z", path],
                            capture_output=True, text=True, timeout=20, env=env)
        if cp.returncode != 0 or cp.stderr.strip():
            problems.append(f"{os.path.basename(path)}: exit {cp.returncode}: {cp.stderr.strip()}")
    assert not problems, "\n".join(problems)
