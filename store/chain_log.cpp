#include "store/chain_log.hpp"

#include <cstring>

namespace orbitmesh::store {
namespace {

constexpr std::size_t max_stream_heads = 65536;

}  // namespace

const chain_hash* chain_log::cached(std::string_view stream, std::int64_t version) const {
    auto it = heads_.find(stream);
    return it != heads_.end() && it->second.version == version ? &it->second.hash : nullptr;
}

void chain_log::written(const std::string& stream, std::int64_t version, const chain_hash& hash) {
    hashes_.push_back(hash);
    if (heads_.size() >= max_stream_heads) heads_.clear();
    heads_.insert_or_assign(stream, stream_head{version, hash});
}

void chain_log::rolled_back_to(std::size_t mark) {
    hashes_.resize(mark);
    heads_.clear();
}

chain_hash chain_log::checkpoint(const chain_hash& prev, std::int64_t last_seq) {
    hasher_.begin_checkpoint(prev, first_seq_, last_seq);
    for (const auto& h : hashes_) hasher_.add(h);
    return hasher_.finish();
}

chain_hash hash_of_cell(const void* data, std::size_t size) {
    chain_hash h = zero_hash;
    if (data && size == h.size()) std::memcpy(h.data(), data, h.size());
    return h;
}

}  // namespace orbitmesh::store
