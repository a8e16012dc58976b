#include "engine/agent/output_buffer.hpp"

namespace orbitmesh::engine::agent {

namespace {

int number(const core::json& m, const char* k) {
    auto it = m.find(k);
    return it != m.end() && it->is_number_integer() ? it->get<int>() : 0;
}

}  // namespace

std::size_t output_buffer::size_of(const core::json& m) {
    auto it = m.find("data");
    return 64 + (it != m.end() && it->is_string() ? it->get_ref<const std::string&>().size() : 0);
}

void output_buffer::add(const core::json& m) {
    const auto type = core::string_at(m, "t");
    if (type != "output" && type != "progress") return;
    auto& k = by_attempt_[core::job_key(core::string_at(m, "job_id"), number(m, "attempt"))];
    if (type == "progress") {
        k.progress = m;
        return;
    }
    k.lines.push_back(m);
    const auto size = size_of(m);
    k.bytes += size;
    bytes_ += size;
    ++lines_;
    make_room(k);
}

// Over the bound: the attempt holding the most gives up its oldest lines, so one chatty job
// cannot leave the others nothing.
void output_buffer::make_room(kept&) {
    while (lines_ > max_lines || bytes_ > max_bytes) {
        kept* largest = nullptr;
        for (auto& [key, k] : by_attempt_)
            if (!k.lines.empty() && (largest == nullptr || k.bytes > largest->bytes)) largest = &k;
        if (largest == nullptr) return;
        const auto size = size_of(largest->lines.front());
        largest->lines.pop_front();
        largest->bytes -= size;
        bytes_ -= size;
        --lines_;
    }
}

std::vector<core::json> output_buffer::messages(const std::string& job_id, int attempt) const {
    auto it = by_attempt_.find(core::job_key_view(job_id, attempt));
    if (it == by_attempt_.end()) return {};
    std::vector<core::json> out(it->second.lines.begin(), it->second.lines.end());
    if (!it->second.progress.is_null()) out.push_back(it->second.progress);
    return out;
}

void output_buffer::restore(const std::vector<core::json>& messages) {
    for (const auto& m : messages) add(m);
}

void output_buffer::drop(const std::string& job_id, int attempt) {
    auto it = by_attempt_.find(core::job_key_view(job_id, attempt));
    if (it == by_attempt_.end()) return;
    lines_ -= it->second.lines.size();
    bytes_ -= it->second.bytes;
    by_attempt_.erase(it);
}

void output_buffer::for_each(const std::function<void(const std::string&, int, const std::vector<core::json>&)>& fn) const {
    for (const auto& entry : by_attempt_) fn(entry.first.first, entry.first.second, messages(entry.first.first, entry.first.second));
}

}  // namespace orbitmesh::engine::agent
