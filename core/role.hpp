#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace orbitmesh::core {

/// What a credential may do (SPEC §8): `agent` registers on /mesh and runs jobs, `operator` submits
/// and reads work over HTTP, `admin` does everything, tokens included.
enum class role : std::uint8_t { agent = 1, operator_ = 2, admin = 4 };

std::string_view to_string(role r) noexcept;
/// "agent", "operator" or "admin"; nullopt for anything else.
std::optional<role> parse_role(std::string_view text) noexcept;

/// The roles a route admits, as a bit set. Admin is in every set but the empty one (see admits).
class role_set {
public:
    constexpr role_set() = default;
    constexpr role_set(std::initializer_list<role> roles) {
        for (auto r : roles) bits_ |= static_cast<std::uint8_t>(r);
    }
    constexpr bool contains(role r) const noexcept { return (bits_ & static_cast<std::uint8_t>(r)) != 0; }
    constexpr bool empty() const noexcept { return bits_ == 0; }
    constexpr bool operator==(const role_set&) const = default;
    /// "operator, admin"
    std::string text() const;

private:
    std::uint8_t bits_ = 0;
};

}  // namespace orbitmesh::core
