#include "engine/agent/sandbox.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "core/error.hpp"
#include "engine/agent/job_supervisor.hpp"

namespace orbitmesh::engine::agent {

namespace fs = std::filesystem;

sandbox_config find_sandbox(bool allow_network, const fs::path& data_dir) {
    sandbox_config sb;
    std::string program = "bwrap";
    if (const char* env = std::getenv("ORBITMESH_BWRAP"); env && *env) program = env;
    if (resolve_program(program, sb.bwrap) != 0 || ::access(sb.bwrap.c_str(), X_OK) != 0)
        throw core::error(core::error_kind::usage,
                          "--sandbox needs bubblewrap, and \"" + program +
                              "\" is not in PATH (install it: apt-get install bubblewrap; or run without --sandbox)");
    // Bubblewrap may be there and still unable to make namespaces (unprivileged user namespaces
    // off, a container without the capability): find out now rather than fail every job.
    std::string probe = "'" + sb.bwrap + "' --unshare-all --ro-bind / / --dev /dev --proc /proc true 2>&1";
    std::string said;
    if (FILE* p = ::popen(probe.c_str(), "r")) {
        char buf[512];
        while (std::fgets(buf, sizeof buf, p)) said += buf;
        int rc = ::pclose(p);
        if (rc != 0) {
            while (!said.empty() && (said.back() == '\n' || said.back() == '\r')) said.pop_back();
            auto nl = said.find('\n');
            throw core::error(core::error_kind::usage, "--sandbox: " + sb.bwrap + " cannot create namespaces here: " +
                                                           (said.empty() ? "it failed" : said.substr(0, nl)) +
                                                           " (enable unprivileged user namespaces, or run without --sandbox)");
        }
    }
    sb.allow_network = allow_network;
    std::error_code ec;
    sb.data_dir = fs::absolute(data_dir, ec);
    sb.work_root = sb.data_dir / "work";
    return sb;
}

std::vector<std::string> sandboxed_argv(const sandbox_config& sb, const std::vector<std::string>& argv,
                                        const fs::path& cwd, bool network) {
    if (network && !sb.allow_network)
        throw core::error(core::error_kind::invalid_input,
                          "the job asks for the network (limits.network: true) but this agent's sandbox has none "
                          "(start the agent with --sandbox-network to allow it)");
    // Order matters: later mounts go over earlier ones, so the working dir is bound last.
    std::vector<std::string> out = {sb.bwrap, "--die-with-parent", "--unshare-all"};
    if (network) out.push_back("--share-net");
    for (const char* a : {"--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp", "--tmpfs", "/root",
                          "--tmpfs", "/home", "--tmpfs", "/run"})
        out.emplace_back(a);
    std::error_code ec;
    // /run is hidden (its sockets would still connect through a read-only mount); a job with the
    // network keeps systemd-resolved's stub files so names resolve.
    if (network && fs::is_directory("/run/systemd/resolve", ec))
        out.insert(out.end(), {"--ro-bind", "/run/systemd/resolve", "/run/systemd/resolve"});
    if (!sb.data_dir.empty()) out.insert(out.end(), {"--tmpfs", sb.data_dir.string()});
    auto dir = cwd.string();
    out.insert(out.end(), {"--bind", dir, dir, "--chdir", dir, "--"});
    out.insert(out.end(), argv.begin(), argv.end());
    return out;
}

}  // namespace orbitmesh::engine::agent
