"""`orbitmesh workflow test`: every example workflow with its case file (examples/cases/) passes
on the real engine with mocked jobs and no process started; a case that expects the wrong
compensation order fails with expected vs got; bad case files are one-line errors (exit 2)."""

import glob
import json
import os

import pytest

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir))
EXAMPLES = sorted(glob.glob(os.path.join(ROOT, "examples", "*.yaml")))

THREE_STEPS = """\
id: three-steps
steps:
  - id: provision
    command: echo
    payload: provision
    compensation: {command: echo, payload: deprovision}
  - id: configure
    needs: [provision]
    command: echo
    payload: configure
    compensation: {command: echo, payload: unconfigure}
  - id: verify
    needs: [configure]
    command: echo
    payload: verify
error_handling: {strategy: stop, compensate: true}
"""


def write(mesh, name, text):
    path = mesh.path(name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


@pytest.mark.deadline(120)
@pytest.mark.parametrize("workflow", EXAMPLES, ids=[os.path.basename(p) for p in EXAMPLES])
def test_every_example_passes_its_case_file(mesh, workflow):
    cases = os.path.join(ROOT, "examples", "cases", os.path.basename(workflow))
    assert os.path.isfile(cases), f"every example needs a case file: {cases}"
    rc, out, err = mesh.cli("workflow", "test", workflow, "-o", "json", timeout=60)
    assert rc == 0, f"{out}\n{err}"
    report = json.loads(out)
    assert report["failed"] == 0 and report["passed"] == len(report["cases"]) >= 2
    for c in report["cases"]:
        assert c["ok"] and c["jobs"], c
        assert all(j["mocked"] for j in c["jobs"]), c


@pytest.mark.deadline(60)
def test_a_wrong_compensation_order_fails_with_expected_vs_got(mesh):
    wf = write(mesh, "three.yaml", THREE_STEPS)
    cases = write(mesh, "three.cases.yaml", """\
cases:
  - name: right order
    steps: {provision: {}, configure: {}, verify: {exit_code: 1, error: "checks failed"}}
    expect: {outcome: failed, compensations: [configure, provision], steps: {provision: compensated}}
  - name: wrong order
    steps: {provision: {}, configure: {}, verify: {exit_code: 1}}
    expect: {outcome: failed, compensations: [provision, configure]}
""")
    rc, out, err = mesh.cli("workflow", "test", wf)  # finds three.cases.yaml beside it
    assert rc == 1, f"{out}\n{err}"
    assert "PASS right order" in out
    assert "FAIL wrong order" in out
    assert "compensations: expected [provision, configure] in this order, got [configure, provision]" in out
    assert "2 cases: 1 passed, 1 failed" in out
    assert err.strip() == f"orbitmesh: error: workflow test {wf}: 1 of 2 cases failed (their expectations are listed above)"


@pytest.mark.deadline(60)
def test_retries_delays_and_timeouts_run_in_virtual_time_and_ndjson_streams_the_run(mesh):
    wf = write(mesh, "slow.yaml", """\
id: slow
steps:
  - id: wait-a-day
    type: delay
    duration: 24h
  - id: flaky
    needs: [wait-a-day]
    command: echo
    retry: {max: 2, delay: 1h}
  - id: slow-job
    needs: [flaky]
    command: echo
    timeout: 10m
""")
    cases = write(mesh, "slow-cases.yaml", """\
cases:
  - name: flaky then slow
    steps:
      flaky: [{exit_code: 1}, {exit_code: 1}, {output: {ok: true}}]
      slow-job: {delay: 2h}
    expect:
      outcome: failed
      steps: {wait-a-day: succeeded, flaky: succeeded, slow-job: timed_out}
      outputs: {flaky: {ok: true}}
""")
    rc, out, err = mesh.cli("workflow", "test", wf, "--cases", cases, "-o", "ndjson", timeout=30)
    assert rc == 0, f"{out}\n{err}"
    lines = [json.loads(l) for l in out.splitlines() if l.strip()]
    assert lines[-1]["type"] == "test.finished" and lines[-1]["passed"] == 1
    finished = [l for l in lines if l.get("type") == "case.finished"]
    assert len(finished) == 1 and finished[0]["ok"]
    assert [j["attempt"] for j in finished[0]["jobs"] if j["step"] == "flaky"] == [1, 2, 3]
    assert finished[0]["virtual_ms"] >= 24 * 3600 * 1000
    events = [l for l in lines if l.get("case") == "flaky then slow" and l.get("type") != "case.finished"]
    assert any(e.get("type") == "step.started" for e in events), events[:3]


@pytest.mark.deadline(60)
def test_a_job_step_without_a_mock_and_bad_case_files(mesh):
    wf = write(mesh, "three.yaml", THREE_STEPS)
    cases = write(mesh, "partial.yaml", "cases:\n  - name: no mocks\n    expect: {outcome: succeeded}\n")
    rc, out, err = mesh.cli("workflow", "test", wf, "--cases", cases)
    assert rc == 1
    assert 'step "provision" ran a job but the case has no mock for it' in out
    assert "outcome: expected succeeded, got failed" in out

    for text, message in [
        ("cases: []\n", "a case file needs `cases:`"),
        ("cases:\n  - name: x\n    steps: {provision: {exit_code: one}}\n", 'case "x": the mock of step "provision": exit_code must be an integer'),
        ("cases:\n  - name: x\n    expect: {outcome: maybe}\n", 'case "x": expect.outcome "maybe" is not a run state'),
        ("cases:\n  - name: x\n    stepz: {}\n", 'case "x": unknown key "stepz"'),
        ("cases:\n  - name: x\n    steps: {verify: {delay: soon}}\n", 'delay "soon" is not a duration'),
        ("cases: [\n", "partial-bad.yaml:"),
    ]:
        bad = write(mesh, "partial-bad.yaml", text)
        rc, out, err = mesh.cli("workflow", "test", wf, "--cases", bad)
        assert rc == 2, f"{text!r}: {rc} {out} {err}"
        assert err.startswith("orbitmesh: error: ") and message in err and err.count("\n") == 1, err
    rc, out, err = mesh.cli("workflow", "test", mesh.path("missing.yaml"), "--cases", cases)
    assert rc == 2 and "cannot read workflow file" in err
    rc, out, err = mesh.cli("workflow", "test", wf)
    assert rc == 2 and "no case file" in err
