// libFuzzer target: the hub's edge for agent frames (SPEC §12). Bytes are decoded as a MessagePack
// frame and as a JSON text frame, and every decoded message is parsed into its typed struct, as the
// hub does before anything else sees it. The only allowed failure is a core::error.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/agent_messages.hpp"
#include "core/error.hpp"
#include "transport/codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace orbitmesh;
    std::string_view bytes(reinterpret_cast<const char*>(data), size);
    for (bool json_text : {false, true}) {
        try {
            for (auto& msg : transport::decode_frame(bytes, json_text)) {
                try {
                    core::protocol::parse_agent_message(std::move(msg));
                } catch (const core::error&) {
                }
            }
        } catch (const core::error&) {
        }
    }
    return 0;
}
