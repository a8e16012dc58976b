"""A field of the wrong type in any route's JSON body is a 400 naming that field, never a raw
library message, and the hub carries on."""

import pytest

# (route, body, the field the message must name). Each body is otherwise valid, so the wrong type
# is the only thing to complain about.
WRONG_TYPES = [
    ("/api/v1/jobs", {"command": "echo", "priority": "high"}, '"priority"'),
    ("/api/v1/jobs", {"command": "echo", "target": {"tags": {"role": 7}}}, '"target.tags.role"'),
    ("/api/v1/jobs", {"command": "echo", "retries": {"max": "3"}}, '"retries.max"'),
    ("/api/v1/jobs", {"command": ["echo"]}, '"command"'),
    ("/api/v1/jobs", {"command": "echo", "limits": {"memory_mb": "64"}}, '"limits.memory_mb"'),
    ("/api/v1/jobs", {"command": "echo", "limits": [64]}, '"limits"'),
    ("/api/v1/jobs", {"command": "echo", "limits": {"network": 1}}, '"limits.network"'),
    ("/api/v1/jobs", {"command": "echo", "limits": {"memry_mb": 64}}, '"limits.memry_mb" is not a limit'),
    ("/api/v1/jobs", {"command": "echo", "limit": {"memory_mb": 64}}, 'field "limit" is not supported (did you mean "limits"?)'),
    ("/api/v1/jobs/batch", {"jobs": [{"command": "echo", "priorty": 1}]}, 'jobs[0] field "priorty" is not supported'),
    ("/api/v1/jobs/batch", {"jobs": [{"command": "echo"}, {"command": "echo", "mode": 1}]},
     'jobs[1] field "mode"'),
    ("/api/v1/jobs/JOB/cancel", {"reason": 7}, '"reason"'),
    ("/api/v1/agents/nobody/invoke", {"method": ["ping"]}, '"method"'),
    ("/api/v1/agents/nobody/invoke", {"method": "ping", "timeout": 5}, '"timeout"'),
    ("/api/v1/workflows", {"source": 12}, '"source"'),
    ("/api/v1/runs", {"workflow_id": 12}, '"workflow_id"'),
    ("/api/v1/runs", {"workflow_id": "w", "inputs": [1]}, '"inputs"'),
    ("/api/v1/runs/RUN/cancel", {"reason": {"why": 1}}, '"reason"'),
    ("/api/v1/runs/RUN/approve", {"step": "gate", "reject": "yes"}, '"reject"'),
    ("/api/v1/runs/RUN/rerun", {"from": 3}, '"from"'),
    ("/api/v1/events", {"type": "deploy.done", "correlation_key": 5}, '"correlation_key"'),
]


@pytest.mark.deadline(60)
def test_a_wrong_typed_field_in_each_route_body_is_400_naming_it(mesh, hub):
    job_id = hub.submit({"command": "echo", "payload": "x"})["id"]
    problems = []
    for route, body, field in WRONG_TYPES:
        path = route.replace("JOB", job_id).replace("RUN", "0190aaaa-0000-7000-8000-000000000001")
        status, reply = hub.post(path, body)
        message = (reply or {}).get("message", "") if isinstance(reply, dict) else ""
        if status != 400 or reply.get("error") != "invalid_input" or field not in message:
            problems.append(f"POST {route} {body!r}: {status} {reply!r} (expected 400 naming {field})")
        elif "json.exception" in message:
            problems.append(f"POST {route}: raw library text in {message!r}")
    assert hub.proc.alive(), hub.proc.log_tail()
    assert not problems, "\n".join(problems)
    # The cancel above was refused: the job (no agent to run it) is still pending, untouched.
    rec = hub.job(job_id)
    assert rec["state"] == "pending" and not rec["cancel_requested"], rec


def test_a_body_that_is_not_json_names_the_byte_not_the_library(mesh, hub):
    status, reply = hub.post("/api/v1/jobs", raw_body=b'{"command": "echo",, }')
    assert status == 400 and reply["error"] == "invalid_input", (status, reply)
    assert reply["message"].startswith("request body is not valid JSON: syntax error at byte "), reply
    assert "json.exception" not in reply["message"], reply
    status, reply = hub.post("/api/v1/jobs/batch", [1, 2])
    assert status == 400 and "jobs[0]" in reply["message"], (status, reply)
    status, reply = hub.post("/api/v1/jobs/JOB/cancel", [1, 2])
    assert status == 400 and reply["message"] == "request body must be a map, got an array", (status, reply)
