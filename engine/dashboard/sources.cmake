# The dashboard at `/` (docs/dashboard.md): plain HTML/CSS/JS under assets/, embedded into the
# binary by embed_assets.cmake at build time, and the routes that serve them.
set(ORBITMESH_DASHBOARD_ASSETS
  index.html
  style.css
  app.js
  api.js
  view.js
  fleet.js
  jobs.js
  job_detail.js
  runs.js
  run_detail.js
  dag.js
)
set(ORBITMESH_DASHBOARD_DIR ${CMAKE_CURRENT_SOURCE_DIR}/dashboard)
set(ORBITMESH_DASHBOARD_CPP ${CMAKE_CURRENT_BINARY_DIR}/generated/dashboard_assets.cpp)
list(TRANSFORM ORBITMESH_DASHBOARD_ASSETS PREPEND ${ORBITMESH_DASHBOARD_DIR}/assets/ OUTPUT_VARIABLE ORBITMESH_DASHBOARD_FILES)
list(JOIN ORBITMESH_DASHBOARD_ASSETS "," ORBITMESH_DASHBOARD_LIST)
add_custom_command(
  OUTPUT ${ORBITMESH_DASHBOARD_CPP}
  COMMAND ${CMAKE_COMMAND} -DOUTPUT=${ORBITMESH_DASHBOARD_CPP} -DASSET_DIR=${ORBITMESH_DASHBOARD_DIR}/assets
          -DASSETS=${ORBITMESH_DASHBOARD_LIST} -P ${ORBITMESH_DASHBOARD_DIR}/embed_assets.cmake
  DEPENDS ${ORBITMESH_DASHBOARD_FILES} ${ORBITMESH_DASHBOARD_DIR}/embed_assets.cmake
  COMMENT "Embedding the dashboard's assets"
  VERBATIM)
# Its own library, depending on nothing: a custom command in orbitmesh_engine would make every
# engine object wait until core, store and transport are linked (CMake orders a target's custom
# commands after its link dependencies), which left one core idle for a minute of a clean build.
add_library(orbitmesh_dashboard_assets STATIC ${ORBITMESH_DASHBOARD_CPP})
target_include_directories(orbitmesh_dashboard_assets PRIVATE ${PROJECT_SOURCE_DIR})
target_link_libraries(orbitmesh_dashboard_assets PRIVATE orbitmesh_flags)
list(APPEND ORBITMESH_ENGINE_SOURCES
  dashboard/dashboard_routes.cpp
)
