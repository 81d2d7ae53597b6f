"""Run a private localstripe server as a subprocess.

Dependency-light on purpose (stdlib only, localstripe itself runs in the
child process) so the demo console can reuse it outside pytest::

    from tests.support.localstripe_server import LocalStripe

    with LocalStripe() as ls:
        client = stripe.StripeClient("sk_test_x",
                                     base_addresses={"api": ls.base_url},
                                     max_network_retries=0)

The child binds 127.0.0.1 only and keeps no state on disk (see
``devtools/demo/run_localstripe.py``).
"""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from devtools.loopback.server import Serving

__all__ = [
    "DEFAULT_API_KEY",
    "LocalStripe",
    "LocalStripeError",
    "authenticate_payment_intent",
    "free_port",
]

DEFAULT_API_KEY = "sk_test_x"
# The package's launcher (the demo console uses the same one): loopback only, no state file.
import devtools.demo.run_localstripe as _launcher_module  # noqa: E402

_LAUNCHER = Path(_launcher_module.__file__ or "")


class LocalStripeError(RuntimeError):
    """localstripe could not be started or answered unexpectedly."""


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that is free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _request(
    method: str,
    url: str,
    *,
    api_key: str | None = None,
    form: dict[str, str] | None = None,
    json_body: Any = None,
    timeout: float = 10.0,
) -> tuple[int, bytes]:
    """Perform one HTTP request and return ``(status, body)`` (no raise on 4xx/5xx)."""
    headers: dict[str, str] = {}
    data: bytes | None = None
    if json_body is not None:
        data = json.dumps(json_body).encode()
        headers["Content-Type"] = "application/json"
    elif form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    if api_key is not None:
        token = base64.b64encode(f"{api_key}:".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return int(resp.status), resp.read()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read()


def authenticate_payment_intent(
    pi_id: str,
    client_secret: str,
    success: bool = True,
    *,
    base_url: str,
    api_key: str = DEFAULT_API_KEY,
) -> dict[str, Any]:
    """Complete (or fail) 3-D Secure for a ``requires_action`` PaymentIntent.

    Calls localstripe's private ``POST /v1/payment_intents/{id}/_authenticate``.
    On success the intent becomes ``succeeded``; with ``success=False`` it goes
    to ``requires_payment_method`` with ``payment_intent_authentication_failure``.
    Returns the PaymentIntent JSON; raises :class:`LocalStripeError` on non-2xx.
    """
    url = f"{base_url.rstrip('/')}/v1/payment_intents/{urllib.parse.quote(pi_id)}/_authenticate"
    status, body = _request(
        "POST",
        url,
        api_key=api_key,
        form={"client_secret": client_secret, "success": "true" if success else "false"},
    )
    if not 200 <= status < 300:
        raise LocalStripeError(f"_authenticate {pi_id}: HTTP {status}: {body[:300]!r}")
    result: dict[str, Any] = json.loads(body)
    return result


class LocalStripe(Serving):
    """A localstripe subprocess on 127.0.0.1.

    :param port: fixed port, or ``None`` to pick a free one.
    :param api_key: secret key used by the helper calls (any ``sk_...`` works).
    :param python: interpreter that has localstripe installed (default: this one).
    :param startup_timeout: seconds :meth:`start` waits for readiness.
    """

    def __init__(
        self,
        port: int | None = None,
        *,
        api_key: str = DEFAULT_API_KEY,
        python: str | None = None,
        startup_timeout: float = 15.0,
    ) -> None:
        self._fixed_port = port
        self.port: int = port or 0
        self.api_key = api_key
        self.python = python or sys.executable
        self.startup_timeout = startup_timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: Any = None

    # -- lifecycle -------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash); use as Stripe ``api`` base."""
        if not self.port:
            raise LocalStripeError("LocalStripe is not started")
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        """True while the child process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> LocalStripe:
        """Spawn the server and wait until it answers. Returns ``self``.

        When no fixed port was given and the chosen port turns out to be taken
        (race with another process), a new port is tried, up to 3 times.
        """
        if self.running:
            return self
        attempts = 1 if self._fixed_port else 3
        last_error: Exception | None = None
        for _ in range(attempts):
            self.port = self._fixed_port or free_port()
            self._spawn()
            try:
                self.wait_ready(self.startup_timeout)
                return self
            except LocalStripeError as exc:
                last_error = exc
                self.stop()
        raise LocalStripeError(f"localstripe failed to start: {last_error}")

    def _spawn(self) -> None:
        self._log = tempfile.TemporaryFile(prefix="localstripe-")  # noqa: SIM115 (closed in stop())
        env = dict(os.environ)
        env.setdefault("PYTHONUNBUFFERED", "1")
        self._proc = subprocess.Popen(
            # -P: do not put the launcher's directory first on sys.path.
            [self.python, "-P", str(_LAUNCHER), str(self.port)],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )

    def output(self) -> str:
        """Everything the child printed so far (for diagnostics)."""
        if self._log is None:
            return ""
        self._log.flush()
        self._log.seek(0)
        text: str = self._log.read().decode(errors="replace")
        self._log.seek(0, os.SEEK_END)
        return text

    def wait_ready(self, timeout: float = 15.0) -> None:
        """Poll ``GET /v1/customers`` (basic auth ``sk_test_x:``) until it answers 200."""
        deadline = time.monotonic() + timeout
        last: object = None
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                raise LocalStripeError(f"localstripe exited with {self._proc.returncode}: {self.output()[-2000:]}")
            try:
                status, _ = _request("GET", f"{self.base_url}/v1/customers", api_key=self.api_key, timeout=1.0)
                if status == 200:
                    return
                last = f"HTTP {status}"
            except OSError as exc:
                last = exc
            time.sleep(0.05)
        raise LocalStripeError(f"localstripe not ready after {timeout}s ({last})")

    def stop(self) -> None:
        """Terminate the child process (SIGTERM, then SIGKILL after 5 s)."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        if self._log is not None:
            self._log.close()
            self._log = None

    # -- localstripe private API -------------------------------------------

    def reset(self) -> None:
        """Delete every object (``DELETE /_config/data``). Webhooks stay registered."""
        status, body = _request("DELETE", f"{self.base_url}/_config/data")
        if status != 200:
            raise LocalStripeError(f"reset: HTTP {status}: {body[:300]!r}")

    def register_webhook(
        self,
        url: str,
        secret: str,
        events: list[str] | None = None,
        webhook_id: str | None = None,
    ) -> str:
        """Register a webhook endpoint (``POST /_config/webhooks/<id>``).

        ``events=None`` means every event type. Re-using ``webhook_id`` replaces
        that registration. Registrations survive :meth:`reset` and live only in
        the server's memory. Deliveries arrive ~1 s after the API call, once,
        signed with ``Stripe-Signature: t=..,v1=..``. Returns the id used.
        """
        wid = webhook_id or f"wh_{uuid.uuid4().hex[:12]}"
        payload: dict[str, Any] = {"url": url, "secret": secret}
        if events is not None:
            payload["events"] = list(events)
        status, body = _request(
            "POST", f"{self.base_url}/_config/webhooks/{urllib.parse.quote(wid)}", json_body=payload
        )
        if status != 200:
            raise LocalStripeError(f"register_webhook: HTTP {status}: {body[:300]!r}")
        return wid

    def authenticate_payment_intent(self, pi_id: str, client_secret: str, success: bool = True) -> dict[str, Any]:
        """See module-level :func:`authenticate_payment_intent`."""
        return authenticate_payment_intent(pi_id, client_secret, success, base_url=self.base_url, api_key=self.api_key)

    def events(self, type: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """List events (``GET /v1/events``), newest first, optionally of one ``type``."""
        query: dict[str, str] = {"limit": str(limit)}
        if type:
            query["type"] = type
        status, body = _request(
            "GET",
            f"{self.base_url}/v1/events?{urllib.parse.urlencode(query)}",
            api_key=self.api_key,
        )
        if status != 200:
            raise LocalStripeError(f"events: HTTP {status}: {body[:300]!r}")
        data: list[dict[str, Any]] = json.loads(body)["data"]
        return data
