list(APPEND ORBITMESH_ENGINE_SOURCES
  replay/arena.cpp
  replay/chain_check.cpp
  replay/chrome_trace.cpp
  replay/job_slot.cpp
  replay/log_fold.cpp
  replay/log_state.cpp
  replay/log_summary.cpp
  replay/msgpack_text.cpp
  replay/replay_routes.cpp
  replay/spec_reader.cpp
  replay/timeline.cpp
  replay/verify.cpp
  replay/verify_jobs.cpp
  replay/verify_snapshot.cpp
  replay/what_if.cpp
)
