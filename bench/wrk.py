"""Load generation with wrk: find (or fetch Debian's build of) the binary and run one POST load, parsed to numbers.

Every target gets the same load generator, written in C, so the client is never the bottleneck. A Lua script
sets the request and, in ``done()``, prints one ``WRKJSON`` line that this module turns into a ``WrkResult``.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = ["Wrk", "WrkError", "WrkFailedError", "WrkResult", "WrkUnavailableError", "find_wrk", "run_wrk"]

_PACKAGES = ("wrk", "libluajit-5.1-2")
_LUAJIT = "libluajit-5.1.so.2"
_MARK = "WRKJSON "
_INSTALL_HINT = "install it with `apt-get install wrk` (Debian/Ubuntu) or put a wrk 4.x binary on PATH"
_ERROR_KINDS = ("connect", "read", "write", "status", "timeout")
_PERCENTILES = (("p50", "50"), ("p90", "90"), ("p99", "99"), ("p99.9", "99.9"))

_DONE_LUA = """
local function num(x)
  if x ~= x or x == math.huge or x == -math.huge then return "0" end
  return string.format("%.3f", x)
end

function done(summary, latency, requests)
  local e = summary.errors
  local p = {}
  for _, q in ipairs({50, 90, 99, 99.9}) do p[#p + 1] = num(latency:percentile(q)) end
  io.write(string.format(
    'WRKJSON {"duration_us":%s,"requests":%s,"bytes":%s,'
      .. '"errors":{"connect":%s,"read":%s,"write":%s,"status":%s,"timeout":%s},'
      .. '"latency_us":{"mean":%s,"max":%s,"50":%s,"90":%s,"99":%s,"99.9":%s}}\\n',
    num(summary.duration), num(summary.requests), num(summary.bytes),
    num(e.connect), num(e.read), num(e.write), num(e.status), num(e.timeout),
    num(latency.mean), num(latency.max), p[1], p[2], p[3], p[4]))
  io.flush()
end
"""


class WrkError(Exception):
    """Base of this module's errors: ``WrkUnavailableError`` (no binary) and ``WrkFailedError`` (a run failed)."""


class WrkUnavailableError(WrkError):
    """wrk is not on PATH and Debian's package could not be fetched and unpacked."""


class WrkFailedError(WrkError):
    """wrk exited non-zero, timed out, or printed no ``WRKJSON`` line."""


@dataclass(frozen=True)
class Wrk:
    """A runnable wrk: the binary and the variables it needs (the loader path of a cached unpacked copy)."""

    executable: Path
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class WrkResult:
    """One wrk run. Errors by wrk's kinds; ``status`` counts responses outside 2xx/3xx."""

    requests: int
    duration_s: float
    requests_per_s: float
    bytes: int
    errors: dict[str, int]
    latency_ms: dict[str, float]

    @property
    def failed(self) -> int:
        return sum(self.errors.values())

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "failed": self.failed}


def find_wrk(cache_dir: Path) -> Wrk:
    """wrk from PATH, else Debian's package unpacked (without installing) into ``cache_dir``; blocking."""
    on_path = shutil.which("wrk")
    if on_path is not None:
        return Wrk(Path(on_path))
    cache_dir.mkdir(parents=True, exist_ok=True)
    root = cache_dir / "root"
    with _locked(cache_dir / "lock"):
        cached = _unpacked(root)
        if cached is not None and _works(cached):
            return cached
        _fetch(cache_dir / "debs", root)
        fetched = _unpacked(root)
        if fetched is None or not _works(fetched):
            raise WrkUnavailableError(f"wrk unpacked into {root} does not run; {_INSTALL_HINT}")
        return fetched


def run_wrk(
    wrk: Wrk,
    url: str,
    *,
    body: bytes,
    headers: Mapping[str, str],
    connections: int,
    duration: float,
    threads: int = 1,
    timeout: float = 10.0,
) -> WrkResult:
    """POST ``body`` to ``url`` over ``connections`` keep-alive connections for ``duration`` s (whole seconds)."""
    if connections < 1:
        raise ValueError("connections must be at least 1")
    seconds = max(1, round(duration))
    with tempfile.TemporaryDirectory(prefix="wrk-") as tmp:
        script = Path(tmp) / "post.lua"
        script.write_text(_lua_script(body, headers), encoding="ascii")
        command = [
            str(wrk.executable),
            f"-t{max(1, min(threads, connections))}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            f"{max(1, math.ceil(timeout))}s",
            "-s",
            str(script),
            url,
        ]
        try:
            done = subprocess.run(
                command, env=_environment(wrk), capture_output=True, text=True, timeout=seconds + timeout + 60
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise WrkFailedError(f"wrk did not run to the end: {exc}") from exc
    return _parse(done)


def _lua_string(data: bytes) -> str:
    """A Lua string literal for any bytes: printable ASCII as is, everything else as a decimal escape."""
    return '"' + "".join(chr(b) if 0x20 <= b < 0x7F and b not in b'"\\' else f"\\{b:03d}" for b in data) + '"'


def _lua_script(body: bytes, headers: Mapping[str, str]) -> str:
    lines = ['wrk.method = "POST"', f"wrk.body = {_lua_string(body)}"]
    lines += [f"wrk.headers[{_lua_string(k.encode())}] = {_lua_string(v.encode())}" for k, v in headers.items()]
    # No response() hook: defining one makes wrk parse every response in Lua, which slows it down.
    return "\n".join(lines) + "\n" + _DONE_LUA


def _parse(done: subprocess.CompletedProcess[str]) -> WrkResult:
    lines = [line for line in done.stdout.splitlines() if line.startswith(_MARK)]
    if done.returncode != 0 or not lines:
        tail = (done.stderr + done.stdout)[-2000:]
        raise WrkFailedError(f"wrk exited {done.returncode} without a result: {tail}")
    raw = json.loads(lines[-1][len(_MARK) :])
    duration_s = float(raw["duration_us"]) / 1e6
    requests = int(raw["requests"])
    latency = raw["latency_us"]
    latency_ms = {"mean": latency["mean"] / 1000, "max": latency["max"] / 1000}
    latency_ms |= {name: latency[key] / 1000 for name, key in _PERCENTILES}
    return WrkResult(
        requests=requests,
        duration_s=duration_s,
        requests_per_s=requests / duration_s if duration_s > 0 else 0.0,
        bytes=int(raw["bytes"]),
        errors={kind: int(raw["errors"][kind]) for kind in _ERROR_KINDS},
        latency_ms=latency_ms,
    )


def _environment(wrk: Wrk) -> dict[str, str]:
    return {**os.environ, **wrk.env}  # noqa: TID251 - wrk inherits the caller's environment plus its loader path


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path``, so concurrent callers fetch and unpack only once."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _unpacked(root: Path) -> Wrk | None:
    executable = root / "usr" / "bin" / "wrk"
    if not executable.exists():
        return None
    libs = sorted((root / "usr" / "lib").glob(f"*/{_LUAJIT}")) + sorted((root / "usr" / "lib").glob(_LUAJIT))
    return Wrk(executable, {"LD_LIBRARY_PATH": str(libs[0].parent)} if libs else {})


def _works(wrk: Wrk) -> bool:
    """``wrk --version`` exits 1 but names itself: a binary that can load its libraries prints ``wrk ``."""
    try:
        done = subprocess.run(
            [str(wrk.executable), "--version"], env=_environment(wrk), capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "wrk " in done.stdout + done.stderr


def _fetch(debs: Path, root: Path) -> None:
    """Download the packages with apt-get (no root needed) and unpack them with dpkg-deb, not installing them."""
    apt_get, unpacker = shutil.which("apt-get"), shutil.which("dpkg-deb") or shutil.which("dpkg")
    if apt_get is None or unpacker is None:
        raise WrkUnavailableError(f"wrk is not on PATH and apt-get/dpkg-deb are missing; {_INSTALL_HINT}")
    shutil.rmtree(debs, ignore_errors=True)
    shutil.rmtree(root, ignore_errors=True)
    debs.mkdir(parents=True)
    download = [apt_get, "download", *_PACKAGES]
    # A fresh machine may have no package lists yet: as root, fetch them once and retry.
    if _run(download, debs) != 0 and (os.geteuid() != 0 or _run([apt_get, "update"], debs) or _run(download, debs)):
        raise WrkUnavailableError(f"`apt-get download {' '.join(_PACKAGES)}` failed; {_INSTALL_HINT}")
    for deb in sorted(debs.glob("*.deb")):
        if _run([unpacker, "-x", str(deb), str(root)], debs) != 0:
            raise WrkUnavailableError(f"could not unpack {deb.name}; {_INSTALL_HINT}")


def _run(command: list[str], cwd: Path) -> int:
    try:
        return subprocess.run(command, cwd=cwd, capture_output=True, timeout=600).returncode
    except (OSError, subprocess.TimeoutExpired):
        return 1
