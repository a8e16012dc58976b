#pragma once
// Certificates made at test time by the `openssl` command (Debian's `openssl` package): two CAs,
// a hub certificate for 127.0.0.1 and localhost, client certificates with a given CN. Nothing is
// checked in, so nothing expires in the repository.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace orbitmesh::transport::test {

class test_pki {
public:
    test_pki() {
        std::string pattern = (std::filesystem::temp_directory_path() / "orbitmesh-pki-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + pattern);
        dir_ = pattern;
        make_ca("ca", "OrbitMesh Test CA");
        make_ca("other-ca", "Some Other CA");
        make_cert("hub", "ca", "hub", "subjectAltName=IP:127.0.0.1,DNS:localhost");
    }
    ~test_pki() {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    test_pki(const test_pki&) = delete;
    test_pki& operator=(const test_pki&) = delete;

    /// `NAME.pem` / `NAME.key` in the directory.
    std::string pem(const std::string& name) const { return (dir_ / (name + ".pem")).string(); }
    std::string key(const std::string& name) const { return (dir_ / (name + ".key")).string(); }
    const std::filesystem::path& dir() const { return dir_; }

    /// A self-signed CA `name`.
    void make_ca(const std::string& name, const std::string& cn) {
        run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj '/CN=" + cn +
            "' -keyout " + key(name) + " -out " + pem(name));
    }
    /// A certificate `name` with subject CN `cn`, signed by CA `ca`; `ext` is an x509v3 line or "".
    void make_cert(const std::string& name, const std::string& ca, const std::string& cn, const std::string& ext = "") {
        auto csr = (dir_ / (name + ".csr")).string();
        run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj '/CN=" + cn + "' -keyout " +
            key(name) + " -out " + csr);
        std::string ext_arg;
        if (!ext.empty()) {
            auto ext_file = (dir_ / (name + ".ext")).string();
            std::ofstream(ext_file) << ext << "\n";
            ext_arg = " -extfile " + ext_file;
        }
        run("openssl x509 -req -in " + csr + " -CA " + pem(ca) + " -CAkey " + key(ca) + " -CAcreateserial -days 2" +
            ext_arg + " -out " + pem(name));
    }

private:
    static void run(const std::string& command) {
        if (std::system((command + " >/dev/null 2>&1").c_str()) != 0)
            throw std::runtime_error("openssl failed (is the openssl package installed?): " + command);
    }

    std::filesystem::path dir_;
};

}  // namespace orbitmesh::transport::test
