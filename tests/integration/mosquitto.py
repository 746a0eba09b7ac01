"""A real mosquitto broker as a subprocess on loopback, for tests that need MQTT end to end.

Each broker gets its own directory (config, password file, persistence, log) and a free
port it keeps across ``restart()``, so a test can stop or kill the broker under a connected
gateway and bring it back where the gateway reconnects, with the queued messages it had
saved. The methods block for at most a few seconds; from a coroutine whose loop also runs
the gateway under test, call them through ``asyncio.to_thread`` so the gateway keeps
running meanwhile.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

HOST = "127.0.0.1"
ROOT = Path(__file__).parents[2]
# The files operators deploy; the fixtures in conftest.py run them, so the tests prove them.
SHIPPED_CONFIG = ROOT / "deploy" / "mosquitto.conf"
SHIPPED_ACL = ROOT / "deploy" / "mosquitto.acl"
# A user with a valid password and no line in the ACL: authenticated, entitled to nothing.
INTRUDER = "intruder"
START_TIMEOUT_S = 5.0
STOP_TIMEOUT_S = 5.0

# Settings of a production config that name this machine's files, sockets or users; a test
# broker replaces them with its own (see ``MosquittoBroker(base_config=...)``). TLS options
# go too: the test listener is plain loopback.
_DEPLOYMENT_KEYS = frozenset(
    {
        "listener",
        "port",
        "bind_address",
        "bind_interface",
        "socket_domain",
        "protocol",
        "certfile",
        "keyfile",
        "cafile",
        "capath",
        "crlfile",
        "ciphers",
        "ciphers_tls1.3",
        "tls_version",
        "tls_engine",
        "tls_keyform",
        "require_certificate",
        "use_identity_as_username",
        "use_subject_as_username",
        "dhparamfile",
        "password_file",
        "acl_file",
        "psk_file",
        "psk_hint",
        "persistence",
        "persistence_location",
        "persistence_file",
        "log_dest",
        "pid_file",
        "user",
        "include_dir",
    }
)


def free_port() -> int:
    # Not harness.free_port: this module imports nothing from the gateway, so a broken
    # gateway import cannot take the broker tests down with it.
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def find_executable(name: str) -> str | None:
    """``name`` on PATH, or in the sbin folders a non-root PATH often lacks (the broker)."""
    found = shutil.which(name)
    if found:
        return found
    for folder in ("/usr/sbin", "/usr/local/sbin", "/sbin"):
        candidate = Path(folder) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def read_settings(path: Path) -> list[tuple[str, str]]:
    """The ``key value`` lines of a mosquitto.conf, comments and blank lines dropped."""
    settings = []
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key, _, value = stripped.partition(" ")
        settings.append((key, value.strip()))
    return settings


def acl_users(path: Path) -> list[str]:
    """The usernames an ACL file names on its ``user`` lines, in order."""
    users = []
    for key, value in read_settings(path):
        if key == "user" and value not in users:
            users.append(value)
    return users


def password_for(user: str) -> str:
    """The password a test broker gives ``user``: known to the tests, secret to no one."""
    return f"{user}-test-password"


class MosquittoError(RuntimeError):
    """The broker did not start or stop as asked; the message carries the tail of its log."""


class MosquittoBroker:
    """One mosquitto process with its config, persistence and log in ``directory``.

    ``users`` (name -> password) become a hashed password file; ``acl_file`` is used as is.
    ``base_config`` is a production mosquitto.conf whose broker-wide settings (queues,
    persistence timing, inflight window) the test broker adopts, minus what names files,
    sockets or users on the production host; ``allow_anonymous`` defaults to its choice,
    else true. ``extra_config`` is appended last, e.g. ``"autosave_on_changes true"``.
    A test that needs a config of its own may rewrite ``config_path`` before ``start()``,
    with its listener on ``port`` and its files at ``password_path`` and
    ``persistence_path``.
    Created stopped: call ``start()`` (or use it as a context manager).
    """

    def __init__(
        self,
        directory: Path,
        *,
        allow_anonymous: bool | None = None,
        users: Mapping[str, str] | None = None,
        acl_file: Path | None = None,
        base_config: Path | None = None,
        extra_config: str = "",
        port: int | None = None,
    ) -> None:
        executable = find_executable("mosquitto")
        if executable is None:
            raise FileNotFoundError("mosquitto not found (Debian package mosquitto)")
        self.executable = executable
        self.directory = directory
        self.host = HOST
        self.port = port if port is not None else free_port()
        base = read_settings(base_config) if base_config is not None else []
        if allow_anonymous is None:
            # The base config's choice (so a test proves the shipped file), else open.
            allow_anonymous = dict(base).get("allow_anonymous", "true") == "true"
        self.allow_anonymous = allow_anonymous
        self.users: dict[str, str] = dict(users or {})
        self.acl_file = acl_file.resolve() if acl_file is not None else None
        self.config_path = directory / "mosquitto.conf"
        self.password_path = directory / "mosquitto.passwd"
        self.persistence_path = directory / "persistence"
        self.log_path = directory / "mosquitto.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.directory.mkdir(parents=True, exist_ok=True)
        self.persistence_path.mkdir(exist_ok=True)
        if self.users:
            self._write_passwords()
        self.config_path.write_text(self._config(base_config, base, extra_config))

    # ---- life cycle ----------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        """Start the broker and return once its port accepts connections."""
        if self.running:
            raise MosquittoError("mosquitto is already running")
        # Appended, not truncated: a restart keeps the earlier run's lines for the post-mortem.
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [self.executable, "-c", str(self.config_path)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.directory,
            )
        self._wait_until_listening()

    def stop(self) -> None:
        """SIGTERM and wait: mosquitto saves its persistence database on the way out."""
        self._signal_and_wait(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL: the broker loses what arrived since its last autosave, like a crash."""
        self._signal_and_wait(signal.SIGKILL)

    def restart(self) -> None:
        """Stop (if running) and start again on the same port with the same persistence."""
        if self.running:
            self.stop()
        self.start()

    def close(self) -> None:
        """For teardown: stop if still running, and kill if it will not stop."""
        if not self.running:
            return
        try:
            self.stop()
        except MosquittoError:
            self.kill()

    def __enter__(self) -> MosquittoBroker:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def subscribed(self, client_id: str, topic: str) -> bool:
        """The broker has taken ``client_id``'s subscription to ``topic`` (its log says so)."""
        for line in self.log().splitlines():
            words = line.split()
            if len(words) == 4 and words[1] == client_id and words[3] == topic:
                return True
        return False

    # ---- internals -----------------------------------------------------------------

    def _config(
        self, base_config: Path | None, base: list[tuple[str, str]], extra_config: str
    ) -> str:
        lines = [f"# Test broker written by {__name__}."]
        if base_config is not None:
            lines.append(f"# Settings taken from {base_config}:")
            lines += [
                f"{key} {value}"
                for key, value in base
                if key not in _DEPLOYMENT_KEYS and key not in ("log_type", "allow_anonymous")
            ]
            lines.append("# This test's own:")
        lines += [
            f"listener {self.port} {self.host}",
            f"allow_anonymous {'true' if self.allow_anonymous else 'false'}",
            "persistence true",
            f"persistence_location {self.persistence_path}",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
            # One line per subscription ("<time>: <client id> <qos> <topic>"), so a test can
            # wait until a client is subscribed: see ``subscribed()``.
            "log_type subscribe",
        ]
        if self.users:
            lines.append(f"password_file {self.password_path}")
        if self.acl_file is not None:
            lines.append(f"acl_file {self.acl_file}")
        if os.geteuid() == 0:
            # As root mosquitto switches to the "mosquitto" user, which cannot write a
            # pytest tmp_path (mode 0700, owned by root); stay root instead.
            lines.append("user root")
        if extra_config:
            lines.append(extra_config.strip())
        return "\n".join(lines) + "\n"

    def _write_passwords(self) -> None:
        passwd = find_executable("mosquitto_passwd")
        if passwd is None:
            raise FileNotFoundError("mosquitto_passwd not found (Debian package mosquitto)")
        for index, (user, password) in enumerate(self.users.items()):
            create = ["-c"] if index == 0 else []
            subprocess.run(
                [passwd, "-b", *create, str(self.password_path), user, password],
                check=True,
                capture_output=True,
                timeout=10,
            )
        # Newer mosquitto versions warn about (and later refuse) a readable password file.
        self.password_path.chmod(0o600)

    def _wait_until_listening(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            assert self.process is not None
            if self.process.poll() is not None:
                raise MosquittoError(
                    f"mosquitto exited with {self.process.returncode} on start:\n{self._log_tail()}"
                )
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.kill()
                raise MosquittoError(
                    f"mosquitto not listening on {self.host}:{self.port} after "
                    f"{START_TIMEOUT_S} s:\n{self._log_tail()}"
                )
            time.sleep(0.02)

    def _signal_and_wait(self, signum: signal.Signals) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signum)
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired as error:
            raise MosquittoError(
                f"mosquitto still running {STOP_TIMEOUT_S} s after {signum.name}:\n"
                f"{self._log_tail()}"
            ) from error

    def _log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log().splitlines()[-lines:])
