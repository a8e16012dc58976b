"""Headless Debian chromium driven over the DevTools protocol (python3-websocket), for the
dashboard tests: one browser per test, started through the test's ProcessRegistry (stopped by
PID), on its own profile dir; every wait is bounded in time and in iterations."""

import base64
import json
import os
import time
import urllib.request

import websocket

from e2e_helpers import Fatal, wait_until

CHROMIUM = "/usr/bin/chromium"


def chromium_present():
    return os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)


class JsError(AssertionError):
    pass


class Browser:
    """One chromium process and a CDP session attached to its first page."""

    def __init__(self, registry, tmp_dir, width=1366, height=768):
        self.profile = os.path.join(tmp_dir, "chromium-profile")
        os.makedirs(self.profile, exist_ok=True)
        argv = [CHROMIUM, "--headless=new", "--remote-debugging-port=0", f"--user-data-dir={self.profile}",
                "--remote-allow-origins=*", "--no-first-run", "--no-default-browser-check", "--disable-gpu",
                "--disable-extensions", "--disable-background-networking", "--disable-sync",
                "--disable-component-update", "--password-store=basic", "--use-mock-keychain",
                f"--window-size={width},{height}"]
        if os.geteuid() == 0:
            argv.append("--no-sandbox")  # chromium refuses to run as root with its sandbox on
        argv.append("about:blank")
        self.proc = registry.start("chromium", argv)
        port_file = os.path.join(self.profile, "DevToolsActivePort")

        def devtools_port():
            if not self.proc.alive():
                raise Fatal(f"chromium exited with {self.proc.popen.returncode}:\n{self.proc.log_tail()}")
            try:
                with open(port_file, encoding="utf-8") as f:
                    first = f.readline().strip()
            except FileNotFoundError:
                return None
            return int(first) if first.isdigit() else None

        self.port = wait_until(devtools_port, 30, "chromium's DevToolsActivePort", interval=0.1)
        self.ws = websocket.create_connection(self._page_ws_url(), timeout=10, suppress_origin=True)
        self._id = 0
        self.events = []
        self.exceptions = []
        for method in ("Page.enable", "Runtime.enable"):
            self.send(method)
        self.send("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)

    def _page_ws_url(self):
        def page():
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/list", timeout=5) as r:
                targets = json.loads(r.read().decode())
            pages = [t for t in targets if t.get("type") == "page" and t.get("webSocketDebuggerUrl")]
            return pages[0]["webSocketDebuggerUrl"] if pages else None
        return wait_until(page, 15, "a chromium page target", interval=0.1)

    def close(self):
        try:
            self.ws.close()
        except Exception:  # noqa: BLE001 - the process is stopped by the registry anyway
            pass

    # protocol -------------------------------------------------------------------------------
    def send(self, method, timeout=15.0, **params):
        self._id += 1
        my_id = self._id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        for _ in range(100000):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self.ws.settimeout(left)
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise AssertionError(f"CDP {method}: {msg['error']}")
                return msg.get("result", {})
            self._note(msg)
        raise AssertionError(f"CDP {method}: no answer within {timeout}s")

    def _note(self, msg):
        if msg.get("method") == "Runtime.exceptionThrown":
            d = msg["params"]["exceptionDetails"]
            text = (d.get("exception") or {}).get("description") or d.get("text")
            self.exceptions.append(text)
        elif "method" in msg and len(self.events) < 5000:
            self.events.append(msg)

    def check_no_js_errors(self):
        if self.exceptions:
            raise JsError("the page threw: " + " | ".join(self.exceptions[:5]))

    def eval(self, expression):
        """The value of a JS expression (promises awaited); a thrown error fails the test."""
        r = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            raise JsError(f"{expression[:80]}: {(d.get('exception') or {}).get('description') or d.get('text')}")
        return r["result"].get("value")

    def wait_js(self, expression, timeout=15.0, what=None):
        """Polls a JS expression until truthy; returns its value."""
        def check():
            self.check_no_js_errors()
            return self.eval(expression)
        return wait_until(check, timeout, what or expression, interval=0.1)

    # page -----------------------------------------------------------------------------------
    def goto(self, url, timeout=15.0):
        self.send("Page.navigate", url=url)
        self.wait_js("document.readyState === 'complete' && location.href.startsWith(%s)" % json.dumps(url.split('#')[0]),
                     timeout, f"{url} to load")

    def set_hash(self, fragment):
        self.eval(f"location.hash = {json.dumps(fragment)}")

    def click(self, selector, timeout=10.0):
        """A real mouse click (press + release) at the middle of the first element matching."""
        box = self.wait_js(f"""(() => {{ const e = document.querySelector({json.dumps(selector)});
            if (!e || e.disabled) return null; e.scrollIntoView({{block: 'center'}});
            const r = e.getBoundingClientRect(); return r.width && r.height ? [r.x + r.width / 2, r.y + r.height / 2] : null; }})()""",
                           timeout, f"{selector} to be clickable")
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button="left", clickCount=1)

    def type_into(self, selector, text):
        """Focuses an input, clears it and types `text` as keyboard input."""
        self.wait_js(f"(() => {{ const e = document.querySelector({json.dumps(selector)}); if (!e) return false;"
                     f" e.focus(); e.select && e.select(); return document.activeElement === e; }})()",
                     10, f"{selector} to take focus")
        self.send("Input.insertText", text=text)

    def text(self, selector):
        return self.eval(f"(document.querySelector({json.dumps(selector)}) || {{}}).textContent || ''")

    def screenshot(self, path):
        data = self.send("Page.captureScreenshot", format="png")["data"]
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        return path
