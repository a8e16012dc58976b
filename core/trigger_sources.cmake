# Triggers and twins (issue 10): time zones from the tz database, the cron parser, schedules and catch-up.
list(APPEND ORBITMESH_CORE_SOURCES
  cron.cpp
  time_zone.cpp
  trigger_events.cpp
  trigger_schedule.cpp
  twin.cpp
  tz_rule.cpp
)
