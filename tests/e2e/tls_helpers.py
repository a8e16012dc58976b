"""TLS for the end-to-end suite: certificates made at test time by the `openssl` command, and a
hub served over https:// / wss:// (the Hub helpers, speaking TLS).

Nothing is checked in, so nothing expires in the repository: every test makes its own CA,
hub certificate (for 127.0.0.1 and localhost) and agent certificates, valid for two days.
"""

import os
import ssl
import subprocess

from e2e_helpers import Fatal, Hub, http_request, wait_until


class Pki:
    """A directory of PEM files: `ca`, `other-ca`, `hub`, and whatever make_cert() adds."""

    def __init__(self, directory):
        self.dir = directory
        os.makedirs(directory, exist_ok=True)
        self.make_ca("ca", "OrbitMesh Test CA")
        self.make_ca("other-ca", "Some Other CA")
        self.make_cert("hub", "ca", "hub", san="IP:127.0.0.1,DNS:localhost")

    def pem(self, name):
        return os.path.join(self.dir, f"{name}.pem")

    def key(self, name):
        return os.path.join(self.dir, f"{name}.key")

    def _openssl(self, *args):
        cp = subprocess.run(["openssl", *args], capture_output=True, text=True, timeout=30)
        assert cp.returncode == 0, f"openssl {' '.join(args)} failed: {cp.stderr}"

    def make_ca(self, name, cn):
        self._openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                      "-nodes", "-days", "2", "-subj", f"/CN={cn}",
                      "-keyout", self.key(name), "-out", self.pem(name))

    def make_cert(self, name, ca, cn, san=None):
        csr = os.path.join(self.dir, f"{name}.csr")
        self._openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                      "-subj", f"/CN={cn}", "-keyout", self.key(name), "-out", csr)
        args = ["x509", "-req", "-in", csr, "-CA", self.pem(ca), "-CAkey", self.key(ca),
                "-CAcreateserial", "-days", "2", "-out", self.pem(name)]
        if san:
            ext = os.path.join(self.dir, f"{name}.ext")
            with open(ext, "w", encoding="utf-8") as f:
                f.write(f"subjectAltName={san}\n")
            args += ["-extfile", ext]
        self._openssl(*args)

    def client_context(self, cert=None):
        """An ssl context trusting `ca` (and presenting `cert` when given)."""
        ctx = ssl.create_default_context(cafile=self.pem("ca"))
        if cert:
            ctx.load_cert_chain(self.pem(cert), self.key(cert))
        return ctx


class TlsHub(Hub):
    """A Hub whose API calls go over https:// (trusting the test CA)."""

    def __init__(self, hub, pki):
        super().__init__(hub.mesh, hub.proc, hub.port, hub.data_dir, hub.args)
        self.pki = pki
        self._ctx = pki.client_context()

    @property
    def url(self):
        return f"https://127.0.0.1:{self.port}"

    @property
    def ws_url(self):
        return f"wss://127.0.0.1:{self.port}/mesh"

    def get(self, path, timeout=30.0):
        return http_request(self.port, "GET", path, timeout=timeout, context=self._ctx)

    def post(self, path, body=None, timeout=30.0, raw_body=None):
        return http_request(self.port, "POST", path, body=body, timeout=timeout, raw_body=raw_body,
                            context=self._ctx)


def start_tls_hub(mesh, pki, client_ca=False, args=(), timeout=20.0):
    """`serve --tls-cert/--tls-key [--client-ca]` on 127.0.0.1:0; waits for GET /healthz over TLS."""
    tls_args = ["--tls-cert", pki.pem("hub"), "--tls-key", pki.key("hub")]
    if client_ca:
        tls_args += ["--client-ca", pki.pem("ca")]
    plain = mesh.start_hub(args=[*tls_args, *args], wait_ready=False)

    def read_port():
        if not plain.proc.alive():
            raise Fatal(f"hub exited with {plain.proc.popen.returncode}:\n{plain.proc.log_tail()}")
        try:
            with open(plain.port_file, "r", encoding="utf-8") as f:
                text = f.read().strip()
        except FileNotFoundError:
            return None
        return int(text) if text.isdigit() and int(text) > 0 else None

    plain.port = wait_until(read_port, timeout, "TLS hub port file")
    hub = TlsHub(plain, pki)
    wait_until(hub.healthy, timeout, f"GET /healthz over TLS on :{hub.port}")
    return hub


def agent_tls_args(pki, cert=None, ca="ca"):
    """`agent` flags: trust `ca`, and present `cert` when given."""
    args = ["--ca", pki.pem(ca)]
    if cert:
        args += ["--tls-cert", pki.pem(cert), "--tls-key", pki.key(cert)]
    return args
