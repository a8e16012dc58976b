# The agent runtime (SPEC §1 `agent`, §2, §3): connection, session, runner, handlers.
list(APPEND ORBITMESH_ENGINE_SOURCES
  agent/agent_identity.cpp
  agent/agent_log.cpp
  agent/agent_runtime.cpp
  agent/agent_session.cpp
  agent/output_buffer.cpp
  agent/child_process.cpp
  agent/echo_handler.cpp
  agent/exec_handler.cpp
  agent/file_handlers.cpp
  agent/handler_registry.cpp
  agent/hub_connection.cpp
  agent/io_post.cpp
  agent/job_context.cpp
  agent/job_runner.cpp
  agent/outbox_writer.cpp
  agent/path_guard.cpp
  agent/plugin_handler.cpp
  agent/process_job.cpp
  agent/reconnect_backoff.cpp
  agent/shell_handler.cpp
  agent/sleep_handler.cpp
  agent/system_facts.cpp
  agent/system_handlers.cpp
  agent/text_codec.cpp
)
