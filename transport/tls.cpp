#include "transport/tls.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/error.hpp"

namespace orbitmesh::transport {
namespace {

/// The newest reason on OpenSSL's error queue (then clears it), e.g. "key values mismatch".
std::string openssl_reason() {
    unsigned long code = ERR_peek_last_error();
    ERR_clear_error();
    if (code == 0) return "unknown OpenSSL error";
    const char* reason = ERR_reason_error_string(code);
    return reason ? reason : "OpenSSL error " + std::to_string(code);
}

[[noreturn]] void fail(const std::string& what, const std::string& file, const std::string& cause) {
    throw core::error(core::error_kind::usage, "cannot load " + what + " \"" + file + "\": " + cause);
}

/// A file the operator named must be there and readable before OpenSSL gets to say something vaguer.
void require_readable(const std::string& what, const std::string& file) {
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) fail(what, file, "no such file");
    if (std::filesystem::is_directory(file, ec)) fail(what, file, "it is a directory, not a PEM file");
    if (!std::ifstream(file)) fail(what, file, "permission denied");
}

void load_identity(SSL_CTX* ctx, const std::string& cert, const std::string& key, const std::string& cert_flag,
                   const std::string& key_flag) {
    require_readable("the TLS certificate (" + cert_flag + ")", cert);
    require_readable("the TLS private key (" + key_flag + ")", key);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert.c_str()) != 1)
        fail("the TLS certificate (" + cert_flag + ")", cert, openssl_reason() + " (expected a PEM certificate)");
    const std::string what = "the TLS private key (" + key_flag + ")";
    if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1) {
        bool mismatch = ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH;
        auto reason = openssl_reason();
        if (mismatch) fail(what, key, "it does not belong to the certificate " + cert);
        fail(what, key, reason + " (expected the PEM key of " + cert + ")");
    }
    if (SSL_CTX_check_private_key(ctx) != 1) fail(what, key, "it does not belong to the certificate " + cert);
}

void load_trust(SSL_CTX* ctx, const std::string& file, const std::string& what) {
    require_readable(what, file);
    if (SSL_CTX_load_verify_locations(ctx, file.c_str(), nullptr) != 1)
        fail(what, file, openssl_reason() + " (expected PEM CA certificates)");
}

std::shared_ptr<ssl::context> base_context(ssl::context::method method) {
    auto ctx = std::make_shared<ssl::context>(method);
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                     ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
    return ctx;
}

}  // namespace

std::shared_ptr<ssl::context> make_server_tls(const tls_server_files& files) {
    if (files.key_file.empty())
        throw core::error(core::error_kind::usage, "--tls-cert needs --tls-key (the certificate's private key)");
    auto ctx = base_context(ssl::context::tls_server);
    SSL_CTX* native = ctx->native_handle();
    load_identity(native, files.cert_file, files.key_file, "--tls-cert", "--tls-key");
    if (!files.client_ca_file.empty()) {
        load_trust(native, files.client_ca_file, "the client CA (--client-ca)");
        // The CA names go into the CertificateRequest, so a client with several certificates picks ours.
        if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(files.client_ca_file.c_str()))
            SSL_CTX_set_client_CA_list(native, names);
        // Asked for, verified when sent, not required by the handshake: /mesh refuses a connection
        // without one (engine policy, with a readable 401), the HTTP API needs none.
        ctx->set_verify_mode(ssl::verify_peer);
        // TLS 1.3 session tickets would let a resumed session skip the certificate: keep one full
        // handshake per connection so every agent connection shows its certificate.
        SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_OFF);
        SSL_CTX_set_num_tickets(native, 0);
    }
    return ctx;
}

void check_server_tls(const tls_server_files& files) {
    if (files.enabled()) make_server_tls(files);
}

std::shared_ptr<ssl::context> make_client_tls(const tls_client_files& files) {
    auto ctx = base_context(ssl::context::tls_client);
    SSL_CTX* native = ctx->native_handle();
    if (files.ca_file.empty()) {
        if (SSL_CTX_set_default_verify_paths(native) != 1)
            throw core::error(core::error_kind::usage,
                              "cannot load the system's CA certificates: " + openssl_reason() + " (pass --ca FILE)");
    } else {
        load_trust(native, files.ca_file, "the CA file (--ca)");
    }
    if (files.cert_file.empty() != files.key_file.empty())
        throw core::error(core::error_kind::usage, "--tls-cert and --tls-key go together (a certificate and its key)");
    if (!files.cert_file.empty()) load_identity(native, files.cert_file, files.key_file, "--tls-cert", "--tls-key");
    ctx->set_verify_mode(ssl::verify_peer);
    return ctx;
}

void expect_server_name(tls_stream& stream, const std::string& host) {
    SSL* ssl = stream.native_handle();
    error_code ec;
    net::ip::make_address(host, ec);
    if (ec) {  // a DNS name: send it as SNI and require it in the certificate
        SSL_set_tlsext_host_name(ssl, host.c_str());
        SSL_set1_host(ssl, host.c_str());
    } else {  // an address: the certificate must list it as an IP SAN
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str());
    }
}

std::string peer_common_name(tls_stream& stream) {
    SSL* ssl = stream.native_handle();
    if (SSL_get_verify_result(ssl) != X509_V_OK) return {};
    X509* cert = SSL_get1_peer_certificate(ssl);
    if (cert == nullptr) return {};
    std::string cn;
    X509_NAME* subject = X509_get_subject_name(cert);
    int at = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
    bool single = at >= 0 && X509_NAME_get_index_by_NID(subject, NID_commonName, at) < 0;
    if (single) {
        unsigned char* utf8 = nullptr;
        int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, at)));
        if (n > 0 && std::strlen(reinterpret_cast<const char*>(utf8)) == static_cast<std::size_t>(n))
            cn.assign(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(n));
        OPENSSL_free(utf8);
    }
    X509_free(cert);
    return cn;
}

bool is_plain_http(const error_code& ec) {
    return ec.category() == net::error::get_ssl_category() &&
           ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_HTTP_REQUEST;
}

bool is_tls_error(const error_code& ec) {
    return ec.category() == net::error::get_ssl_category() || ec.category() == ssl::error::get_stream_category();
}

bool is_certificate_failure(tls_stream& stream) { return SSL_get_verify_result(stream.native_handle()) != X509_V_OK; }

std::string certificate_problem(tls_stream& stream) {
    long verify = SSL_get_verify_result(stream.native_handle());
    return verify == X509_V_OK ? std::string() : X509_verify_cert_error_string(verify);
}

std::string describe_tls_failure(const error_code& ec, tls_stream& stream) {
    if (auto problem = certificate_problem(stream); !problem.empty()) return "certificate verify failed: " + problem;
    if (ec == beast::error::timeout) return "timed out";
    if (ec == net::error::eof || ec == ssl::error::stream_truncated) return "the peer closed the connection during the handshake";
    return ec.message();
}

}  // namespace orbitmesh::transport
