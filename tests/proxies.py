"""A real forward proxy on loopback for the client's tests: Debian's ``tinyproxy``.

``.ci/run`` installs it (``apt-get install tinyproxy``) when the machine lacks it. Each
:class:`Tinyproxy` runs with a config file of its own, on a free port of ``127.0.0.1``,
in the foreground (``-d``), and logs every request it forwards to a file the tests read
(:meth:`Tinyproxy.requests`): that log is how a test knows a request went through it.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

__all__ = ["Tinyproxy", "free_port"]

# tinyproxy logs each request it reads as "Request (file descriptor 5): GET http://... HTTP/1.1".
_REQUEST = re.compile(r"Request \(file descriptor \d+\): (?P<line>\S+ \S+) HTTP/1\.[01]")


def free_port() -> int:
    """A port of 127.0.0.1 that nothing listens on (at the time of asking)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Tinyproxy:
    """``with Tinyproxy(workdir, auth=("user", "password")) as proxy: proxy.url``.

    *auth*: the ``BasicAuth`` credentials the proxy demands (407 without them); none asked
    when not given. :attr:`url` carries no credentials: :meth:`url_with` adds them.
    """

    def __init__(self, workdir: Path, *, auth: tuple[str, str] | None = None) -> None:
        self.workdir = workdir
        self.auth = auth
        self.log = workdir / "tinyproxy.log"
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    def url_with(self, user: str, password: str) -> str:
        """The proxy's URL with ``user:password@`` in it."""
        return f"http://{user}:{password}@127.0.0.1:{self.port}"

    def requests(self) -> list[str]:
        """``"METHOD URL"`` of each request the proxy read (a CONNECT names host:port)."""
        if not self.log.exists():
            return []
        text = self.log.read_text(encoding="utf-8", errors="replace")
        return [m["line"] for m in _REQUEST.finditer(text)]

    def _config(self, port: int) -> Path:
        lines = [
            f"Port {port}",
            "Listen 127.0.0.1",
            "Allow 127.0.0.1",
            "Timeout 30",
            "MaxClients 50",
            f'LogFile "{self.log}"',
            "LogLevel Info",
            "DisableViaHeader Yes",
        ]
        if self.auth is not None:
            lines.append(f"BasicAuth {self.auth[0]} {self.auth[1]}")
        config = self.workdir / "tinyproxy.conf"
        config.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return config

    def __enter__(self) -> Tinyproxy:
        binary = shutil.which("tinyproxy")
        assert binary, "tinyproxy is needed (Debian: apt-get install tinyproxy; .ci/run does)"
        # The port is free when asked, not necessarily when tinyproxy binds it: another
        # process may take it in between. Then tinyproxy exits, and another port is tried.
        for _ in range(5):
            port = free_port()
            process = subprocess.Popen(
                [binary, "-d", "-c", str(self._config(port))],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            if self._wait_listening(process, port):
                self._process, self.port = process, port
                return self
            _stop(process)
        raise AssertionError(f"tinyproxy did not start; its log:\n{self._log_text()}")

    @staticmethod
    def _wait_listening(process: subprocess.Popen[bytes], port: int) -> bool:
        deadline = time.monotonic() + 20  # generous: the machine is shared and may be slow
        while time.monotonic() < deadline:
            if process.poll() is not None:
                return False
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            except OSError:
                time.sleep(0.02)
                continue
            return process.poll() is None  # ours listening, not something else on the port
        return False

    def _log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        process, self._process = self._process, None
        if process is not None:
            _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
