#pragma once
// The command line of a C++ benchmark (bench/README.md): flags with values, and on anything
// wrong one `NAME: error: …` line, the usage line, exit 2.
#include <cstdio>
#include <cstdlib>
#include <string>

namespace bench {

class command_line {
public:
    command_line(const char* name, const char* usage, int argc, char** argv)
        : name_(name), usage_(usage), argc_(argc), argv_(argv) {}

    /// The next flag, or nullptr after the last one.
    const char* next_flag() {
        if (++i_ >= argc_) return nullptr;
        flag_ = argv_[i_];
        return argv_[i_];
    }
    /// The current flag's value.
    const char* value() {
        if (i_ + 1 >= argc_) usage_error(flag_ + " needs a value");
        return argv_[++i_];
    }
    /// The current flag's value as a whole number from `min` to `max`.
    long whole_number(long min, long max) {
        const char* text = value();
        char* end = nullptr;
        long v = std::strtol(text, &end, 10);
        if (*text == '\0' || *end != '\0' || v < min || v > max)
            usage_error(flag_ + " needs a whole number from " + std::to_string(min) + " to " + std::to_string(max) +
                        ", got \"" + text + "\"");
        return v;
    }
    [[noreturn]] void usage_error(const std::string& why) const {
        std::fprintf(stderr, "%s: error: %s\n%s\n", name_, why.c_str(), usage_);
        std::exit(2);
    }

private:
    const char* name_;
    const char* usage_;
    int argc_;
    char** argv_;
    int i_ = 0;
    std::string flag_;
};

}  // namespace bench
