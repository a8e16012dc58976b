#include "cli/output.hpp"

#include <algorithm>
#include <cstdio>
#include <iostream>

#include "core/error.hpp"

namespace orbitmesh::cli {

void print_table(const std::vector<std::string>& headers, const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> width(headers.size());
    for (std::size_t i = 0; i < headers.size(); ++i) width[i] = headers[i].size();
    for (const auto& r : rows)
        for (std::size_t i = 0; i < r.size() && i < width.size(); ++i) width[i] = std::max(width[i], r[i].size());
    auto line = [&](const std::vector<std::string>& cells) {
        std::string out;
        for (std::size_t i = 0; i < cells.size() && i < width.size(); ++i) {
            out += cells[i];
            if (i + 1 < cells.size()) out += std::string(width[i] - cells[i].size() + 2, ' ');
        }
        std::cout << out << '\n';
    };
    line(headers);
    for (const auto& r : rows) line(r);
    std::cout.flush();
}

void print_json(const core::json& j, bool one_line) {
    std::cout << j.dump(one_line ? -1 : 2, ' ', false, core::json::error_handler_t::replace) << std::endl;
}

std::string output_text(const core::json& output) {
    if (output.is_null()) return "";
    if (output.is_string()) return output.get<std::string>();
    return output.dump(-1, ' ', false, core::json::error_handler_t::replace);
}

std::string cell(const core::json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return "-";
    if (it->is_string()) return it->get<std::string>().empty() ? "-" : it->get<std::string>();
    return it->dump();
}

void check_format(const std::string& format) {
    if (format != "table" && format != "json" && format != "ndjson")
        throw core::error(core::error_kind::usage, "unknown output format \"" + format + "\" (use -o table, json or ndjson)");
}

}  // namespace orbitmesh::cli
