// Runs a libFuzzer target over files without libFuzzer: the regular (GCC) build links each target
// with this main, so ctest replays the seed corpus and every past crash on every build.
//   fuzz_X_replay DIR_OR_FILE...   -> exit 0 when every input ran, 1 (naming it) when one threw
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

bool run_file(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    try {
        LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
        return true;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "fuzz replay: %s: uncaught exception: %s\n", file.c_str(), e.what());
    } catch (...) {
        std::fprintf(stderr, "fuzz replay: %s: uncaught non-std exception\n", file.c_str());
    }
    return false;
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t ran = 0, failed = 0;
    for (int i = 1; i < argc; ++i) {
        std::filesystem::path arg(argv[i]);
        if (!std::filesystem::exists(arg)) {
            std::fprintf(stderr, "fuzz replay: %s does not exist\n", arg.c_str());
            return 1;
        }
        std::vector<std::filesystem::path> files;
        if (std::filesystem::is_directory(arg)) {
            for (const auto& entry : std::filesystem::recursive_directory_iterator(arg))
                if (entry.is_regular_file() && entry.path().filename() != "README.md") files.push_back(entry.path());
        } else {
            files.push_back(arg);
        }
        for (const auto& f : files) {
            ++ran;
            if (!run_file(f)) ++failed;
        }
    }
    std::printf("fuzz replay: %zu inputs, %zu failed\n", ran, failed);
    return failed == 0 && ran > 0 ? 0 : 1;
}
