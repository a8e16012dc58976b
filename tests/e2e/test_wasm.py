"""The `wasm` handler (SPEC §3, the original OrbitMesh's WASM sandbox): WASI modules built here
at test time (clang-14 --target=wasm32-wasi with Debian's wasi-libc) run through node's
`node:wasi` with only the preopened dirs, the job's limits and a timeout."""

import json
import os
import shutil
import subprocess

import pytest

HELLO_C = r"""
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
    printf("hello from wasm, %d args, first %s, GREETING=%s\n", argc, argc > 1 ? argv[1] : "-",
           getenv("GREETING") ? getenv("GREETING") : "-");
    FILE *out = fopen("/data/written-by-wasm.txt", "w");
    if (!out) { perror("open /data/written-by-wasm.txt"); return 4; }
    fputs("from the module\n", out);
    fclose(out);
    FILE *secret = fopen("/etc/hostname", "r");
    printf("outside the preopens: %s\n", secret ? "READABLE" : "not reachable");
    return argc > 2 ? atoi(argv[2]) : 0;
}
"""

LOOP_C = r"""
int main(void) { volatile unsigned long n = 0; for (;;) n++; }
"""

GREEDY_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static char *volatile kept[64];  /* used, so the compiler cannot drop the allocations */
int main(void) {
    size_t total = 0;
    for (int i = 0; i < 64; i++) {
        char *p = malloc(8u << 20);
        if (!p) { printf("allocation refused after %zu MiB\n", total >> 20); return 3; }
        memset(p, i, 8u << 20);
        kept[i] = p;
        total += 8u << 20;
    }
    printf("allocated %zu MiB\n", total >> 20);
    return 0;
}
"""


def compile_wasm(tmp, name, source):
    clang = shutil.which("clang-14") or shutil.which("clang")
    assert clang, "clang-14 is needed to build WASI test modules (scripts/install-deps.sh installs it)"
    src = os.path.join(tmp, name + ".c")
    out = os.path.join(tmp, name + ".wasm")
    with open(src, "w", encoding="utf-8") as f:
        f.write(source)
    cp = subprocess.run([clang, "--target=wasm32-wasi", "-O1", src, "-o", out], capture_output=True, text=True,
                        timeout=120)
    assert cp.returncode == 0, f"building {name}.wasm failed:\n{cp.stderr}"
    return out


@pytest.fixture
def wasm_mesh(mesh):
    root = mesh.path("wasm-root")
    os.makedirs(os.path.join(root, "data"))
    modules = {name: compile_wasm(root, name, src) for name, src in
               [("hello", HELLO_C), ("loop", LOOP_C), ("greedy", GREEDY_C)]}
    hub = mesh.start_hub()
    mesh.start_agent(hub, "wasm-agent", args=["--allow-root", root, "--wasm-timeout", "3s"])
    return hub, root, modules


def submit_wait(mesh, hub, payload, *flags):
    rc, out, err = mesh.cli("job", "submit", "--wait", "-o", "json", *flags, "--payload", json.dumps(payload),
                            "--", "wasm", hub=hub, timeout=60)
    assert out.strip(), f"no job record: rc={rc} stderr={err}"
    return rc, json.loads(out)


def test_a_wasi_module_runs_with_args_env_and_only_its_preopened_dir(mesh, wasm_mesh):
    hub, root, modules = wasm_mesh
    data = os.path.join(root, "data")
    rc, job = submit_wait(mesh, hub, {"module": modules["hello"], "args": ["alpha"], "env": {"GREETING": "hi"},
                                      "dirs": {"/data": data}})
    assert rc == 0 and job["state"] == "succeeded", job
    assert "hello from wasm, 2 args, first alpha, GREETING=hi" in job["output"], job["output"]
    assert "outside the preopens: not reachable" in job["output"], job["output"]
    assert open(os.path.join(data, "written-by-wasm.txt")).read() == "from the module\n"


def test_the_module_exit_status_is_the_job_exit_code(mesh, wasm_mesh):
    hub, root, modules = wasm_mesh
    rc, job = submit_wait(mesh, hub, {"module": modules["hello"], "args": ["a", "7"],
                                      "dirs": {"/data": os.path.join(root, "data")}})
    assert rc == 1 and job["state"] == "failed" and job["exit_code"] == 7, job


def test_a_module_that_loops_forever_is_stopped_by_its_timeout(mesh, wasm_mesh):
    hub, _, modules = wasm_mesh
    rc, job = submit_wait(mesh, hub, {"module": modules["loop"]}, "--timeout", "1s")
    assert rc == 4 and job["state"] == "timed_out", job
    # No timeout of its own: the agent's --wasm-timeout (3s here) stops it.
    rc, job = submit_wait(mesh, hub, {"module": modules["loop"]})
    assert rc == 4 and job["state"] == "timed_out" and "after 3" in job["error"], job


def test_memory_limit_caps_the_module_memory(mesh, wasm_mesh):
    hub, _, modules = wasm_mesh
    rc, job = submit_wait(mesh, hub, {"module": modules["greedy"]})
    assert rc == 0 and "allocated 512 MiB" in job["output"], job
    rc, job = submit_wait(mesh, hub, {"module": modules["greedy"]}, "--limit", "memory_mb=64")
    assert rc == 1 and "allocation refused" in job["output"], job


def test_modules_and_dirs_outside_the_allowed_roots_are_refused(mesh, wasm_mesh):
    hub, root, modules = wasm_mesh
    rc, job = submit_wait(mesh, hub, {"module": modules["hello"], "dirs": {"/data": "/etc"}})
    assert rc == 1 and job["state"] == "failed" and "wasm" in job["error"], job
    rc, job = submit_wait(mesh, hub, {"module": "/usr/lib/x.wasm"})
    assert rc == 1 and "wasm" in job["error"], job
    rc, job = submit_wait(mesh, hub, {"args": []})
    assert rc == 1 and "give the module's path" in job["error"], job
