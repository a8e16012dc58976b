# Tests of the cron parser, time zones and schedules (issue 10).
list(APPEND ORBITMESH_CORE_TESTS
  cron_test.cpp
  time_zone_test.cpp
  trigger_schedule_test.cpp
  twin_test.cpp
)
