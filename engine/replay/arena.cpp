#include "engine/replay/arena.hpp"

#include <sys/mman.h>

#include <new>

namespace orbitmesh::engine::replay {

char* arena::map(std::size_t size) {
    // Twice the size, then trimmed to a 2 MiB boundary, so the kernel can back it with huge pages.
    const std::size_t span = size + block_size;
    void* raw = ::mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) throw std::bad_alloc();
    auto* p = static_cast<char*>(raw);
    const auto misalign = reinterpret_cast<std::uintptr_t>(p) % block_size;
    char* aligned = misalign == 0 ? p : p + (block_size - misalign);
    if (aligned > p) ::munmap(p, static_cast<std::size_t>(aligned - p));
    const std::size_t tail = static_cast<std::size_t>((p + span) - (aligned + size));
    if (tail > 0) ::munmap(aligned + size, tail);
    ::madvise(aligned, size, MADV_HUGEPAGE);  // a hint: without huge pages it works the same
    return aligned;
}

void arena::unmap(char* p, std::size_t size) noexcept { ::munmap(p, size); }

}  // namespace orbitmesh::engine::replay
