// libFuzzer target: the workflow loader (SPEC §12: invalid YAML, alias bombs, deep nesting). The
// same bytes are read as a YAML file and as a JSON file; check_workflow_text promises never to
// throw for bad content, so any exception (or crash, or hang) is a finding.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "engine/workflow/loader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace orbitmesh;
    std::string_view text(reinterpret_cast<const char*>(data), size);
    for (const char* file : {"fuzz.yaml", "fuzz.json"}) {
        auto check = engine::check_workflow_text(text, file);
        if (check.ok()) engine::validate(check.workflow);
    }
    return 0;
}
