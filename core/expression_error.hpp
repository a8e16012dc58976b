#pragma once
#include <cstddef>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace orbitmesh::core {

/// A syntax or evaluation error in an expression. It is a core::error{invalid_input} whose
/// message reads `expression "TEXT": column N: REASON (HINT)`; the parts stay available so the
/// workflow validator can place them in a diagnostic.
class expression_error : public error {
public:
    expression_error(std::string_view text, std::size_t offset, std::string reason, std::string hint = {});

    std::size_t column() const noexcept { return column_; }  // 1-based, within the expression
    const std::string& reason() const noexcept { return reason_; }
    const std::string& hint() const noexcept { return hint_; }

private:
    std::size_t column_;
    std::string reason_;
    std::string hint_;
};

}  // namespace orbitmesh::core
