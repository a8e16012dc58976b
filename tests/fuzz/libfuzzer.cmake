# `-DORBITMESH_FUZZ=ON` with clang: only the libFuzzer targets, built from just the sources they
# exercise (core, the frame codec, the workflow loader), with ASan + UBSan. scripts/fuzz.sh drives it.
set(fuzz_root ${PROJECT_SOURCE_DIR})
# nlohmann's header is a third of each file's compile time under the sanitizers: parse it once.
target_precompile_headers(orbitmesh_core PRIVATE <nlohmann/json.hpp> <string> <vector> <map>)
add_library(fuzz_codec STATIC ${fuzz_root}/transport/codec.cpp)
target_link_libraries(fuzz_codec PUBLIC orbitmesh_core PRIVATE msgpackc-cxx orbitmesh_flags)
# The loader's own list (engine/workflow/sources.cmake); the rest of the engine is not linked.
include(${fuzz_root}/engine/workflow/sources.cmake)
set(fuzz_loader_sources ${ORBITMESH_WORKFLOW_LOADER_SOURCES})
list(TRANSFORM fuzz_loader_sources PREPEND ${fuzz_root}/engine/)
add_library(fuzz_loader STATIC ${fuzz_loader_sources})
target_precompile_headers(fuzz_loader REUSE_FROM orbitmesh_core)
target_link_libraries(fuzz_loader PUBLIC orbitmesh_core yaml-cpp PRIVATE orbitmesh_flags)
set(fuzz_libs_frame fuzz_codec)
set(fuzz_libs_workflow fuzz_loader)
set(fuzz_libs_expression orbitmesh_core)
foreach(target frame workflow expression)
  add_executable(fuzz_${target} ${CMAKE_CURRENT_LIST_DIR}/fuzz_${target}.cpp)
  target_link_libraries(fuzz_${target} PRIVATE ${fuzz_libs_${target}} orbitmesh_flags)
  target_link_options(fuzz_${target} PRIVATE -fsanitize=fuzzer)
endforeach()
