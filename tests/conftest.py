"""Shared fixtures: a real local HTTP server, config files in a temporary folder, the CLI."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.localsite import LocalSite

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def site() -> Iterator[LocalSite]:
    """A fresh local HTTP server for one test."""
    server = LocalSite().start()
    yield server
    server.stop()


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key (cert.pem, key.pem)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    return cert, key


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep every test away from the real user config and state folders."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.delenv("MENTIONS_CONFIG", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")


def run_cli(*args: str, cwd: Path | None = None, stdin: bytes | None = None,
            env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[bytes]:
    """Run `python -m mentions ARGS` in a subprocess (for exit codes, pipes and signals)."""
    environment = dict(os.environ, PYTHONPATH=str(REPO), NO_COLOR="1", **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "mentions", *args],
        cwd=cwd, input=stdin, capture_output=True, env=environment, timeout=timeout, check=False,
    )


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real PostgreSQL server for the session, from the `pgserver` wheel (a test extra).

    Skipped where it is not installed, except in CI, where a skip would hide that the
    PostgreSQL state went untested."""
    # pgserver asks platformdirs for a runtime folder, which warns where XDG_RUNTIME_DIR is unset.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            import pgserver  # type: ignore[import-untyped,unused-ignore]
            import psycopg  # noqa: F401
        except ImportError:
            if os.environ.get("CI"):
                raise
            pytest.skip("pgserver and psycopg (test extras) are needed for the PostgreSQL state")
        server = pgserver.get_server(str(tmp_path_factory.mktemp("pg")), cleanup_mode="stop")
    yield str(server.get_uri())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        server.cleanup()


_DATABASES = itertools.count()


@pytest.fixture
def postgres_url(postgres_server: str) -> str:
    """A new, empty database of the session's server: its postgresql:// URL."""
    import psycopg

    name = f"test{next(_DATABASES)}"
    with psycopg.connect(postgres_server, autocommit=True) as db:
        db.execute(f"CREATE DATABASE {name}")
    return postgres_server.replace("/postgres?", f"/{name}?")


@pytest.fixture(params=["sqlite", "postgresql"])
def state_location(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """Where a state test keeps its state: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return tmp_path / "s.db"
    return str(request.getfixturevalue("postgres_url"))


# The misbehaving server of the fetch tests (tests/faultserver.py), one per session.
from tests.faultserver import fault_server  # noqa: E402

__all__ = ["fault_server"]


# Root ignores file modes: as root, commands that must meet them run without the capabilities
# that let it (CAP_DAC_OVERRIDE and kin).
WITHOUT_OVERRIDE = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner,-linux_immutable", "--"]


@pytest.fixture(scope="session")
def bound_by_modes(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The command prefix under which file modes bind this test's commands (none if they do
    already); skips the test where no prefix can make them."""
    prefix = WITHOUT_OVERRIDE if os.geteuid() == 0 else []
    if prefix and shutil.which("setpriv") is None:
        pytest.skip("running as root, and no setpriv to drop the capabilities that ignore file modes")
    probe = tmp_path_factory.mktemp("probe") / "read-only"
    probe.write_text("")
    probe.chmod(0o444)
    tried = subprocess.run(
        [*prefix, sys.executable, "-c", f"""
try:
    open({str(probe)!r}, "a")
    print("written")
except PermissionError:
    print("denied")
"""], capture_output=True, text=True, check=False)
    if tried.stdout.strip() != "denied":
        pytest.skip(f"file modes do not bind here ({tried.stdout.strip() or tried.stderr.strip()})")
    return prefix


def run_on_terminal(args: list[str], environment: dict[str, str], *,
                    stderr_too: bool = False) -> tuple[int, bytes, bytes]:
    """`python -m mentions ARGS` with stdout (and with `stderr_too`, stderr) on a pseudo-terminal:
    its exit code, what the terminal showed, and stderr when it went to a pipe. The terminal
    is read as the command writes: a full one would hold it."""
    import pty

    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen([sys.executable, "-m", "mentions", *args], stdin=subprocess.DEVNULL,
                                   stdout=follower, stderr=follower if stderr_too else subprocess.PIPE,
                                   env=environment)
        os.close(follower)
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the other end closed and everything was read
                break
            if not chunk:
                break
            shown += chunk
        _, stderr = process.communicate(timeout=60)
    finally:
        os.close(leader)
    return process.returncode, shown, stderr or b""
