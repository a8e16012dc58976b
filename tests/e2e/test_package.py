"""The Debian package (issue 13): `cpack -G DEB` in the build dir makes a .deb whose contents are
the binary, the systemd units, the man pages, the completions where bash/zsh/fish look, and the
config files; the packaged binary runs. (.ci/run installs it with dpkg -i as well.)"""

import os
import re
import subprocess

import pytest


@pytest.fixture(scope="module")
def package(orbitmesh_bin, tmp_path_factory):
    build_dir = os.path.dirname(os.path.dirname(orbitmesh_bin))  # BUILD/cli/orbitmesh
    config = os.path.join(build_dir, "CPackConfig.cmake")
    assert os.path.exists(config), f"no {config}: configure the build with CMake first"
    out = tmp_path_factory.mktemp("deb")
    cp = subprocess.run(["cpack", "--config", config, "-G", "DEB", "-B", str(out)], capture_output=True,
                        text=True, timeout=300)
    assert cp.returncode == 0, f"cpack failed:\n{cp.stdout}\n{cp.stderr}"
    debs = [f for f in os.listdir(out) if f.endswith(".deb")]
    assert len(debs) == 1, debs
    return str(out), os.path.join(out, debs[0])


def test_the_package_lists_binary_units_man_pages_completions_and_config(package):
    _, deb = package
    listing = subprocess.run(["dpkg-deb", "-c", deb], capture_output=True, text=True, check=True).stdout
    paths = {line.split()[-1].lstrip(".") for line in listing.splitlines()}
    man_dir = os.path.join(os.path.dirname(__file__), "..", "..", "man")
    man_pages = {f"/usr/share/man/man1/{m}" for m in os.listdir(man_dir) if m.endswith(".1")}
    want = {
        "/usr/bin/orbitmesh",
        "/usr/lib/systemd/system/orbitmesh-hub.service",
        "/usr/lib/systemd/system/orbitmesh-agent.service",
        "/usr/share/bash-completion/completions/orbitmesh",
        "/usr/share/zsh/vendor-completions/_orbitmesh",
        "/usr/share/fish/vendor_completions.d/orbitmesh.fish",
        "/etc/orbitmesh/hub.yaml",
        "/etc/orbitmesh/agent.yaml",
        "/etc/orbitmesh/agent.env",
    } | man_pages
    assert "/usr/share/man/man1/orbitmesh.1" in man_pages
    missing = sorted(want - paths)
    assert not missing, f"missing from the package: {missing}\n{listing}"


def test_control_fields_scripts_and_units(package):
    out, deb = package
    info = subprocess.run(["dpkg-deb", "-I", deb], capture_output=True, text=True, check=True).stdout
    assert re.search(r"Package: orbitmesh", info) and re.search(r"Depends: .*libsqlite3", info), info
    assert "postinst" in info and "conffiles" in info, info
    root = os.path.join(out, "root")
    subprocess.run(["dpkg-deb", "-x", deb, root], check=True)
    agent_unit = open(os.path.join(root, "usr/lib/systemd/system/orbitmesh-agent.service")).read()
    for line in ("User=orbitmesh-agent", "EnvironmentFile=/etc/orbitmesh/agent.env", "Restart=on-failure",
                 "NoNewPrivileges=yes", "ProtectSystem=full", "ExecStart=/usr/bin/orbitmesh agent --config"):
        assert line in agent_unit, line
    hub_unit = open(os.path.join(root, "usr/lib/systemd/system/orbitmesh-hub.service")).read()
    for line in ("User=orbitmesh", "Restart=on-failure", "ProtectSystem=strict", "ExecStart=/usr/bin/orbitmesh serve --config"):
        assert line in hub_unit, line
    control = os.path.join(out, "control")
    subprocess.run(["dpkg-deb", "-e", deb, control], check=True)
    postinst = open(os.path.join(control, "postinst")).read()
    assert "orbitmesh-agent" in postinst and "adduser" in postinst


def test_the_packaged_binary_runs_and_reads_the_packaged_config(package):
    out, deb = package
    root = os.path.join(out, "run")
    subprocess.run(["dpkg-deb", "-x", deb, root], check=True)
    binary = os.path.join(root, "usr/bin/orbitmesh")
    cp = subprocess.run([binary, "version"], capture_output=True, text=True, timeout=20)
    assert cp.returncode == 0 and "orbitmesh" in cp.stdout, (cp.returncode, cp.stdout, cp.stderr)
    for command, cfg in (("serve", "hub.yaml"), ("agent", "agent.yaml")):
        cp = subprocess.run([binary, command, "--config", os.path.join(root, "etc/orbitmesh", cfg), "--print-config"],
                            capture_output=True, text=True, timeout=20)
        assert cp.returncode == 0, (command, cp.stderr)
        assert "# config file" in cp.stdout and "log-format: text  # config file" in cp.stdout, cp.stdout
