"""The image without a Docker engine: deploy/Dockerfile linted by hadolint, and its build replayed.

The replay reads the Dockerfile itself, so it cannot drift from it: the build stage's WORKDIR,
COPY, ENV and RUN steps run in order in a temporary directory standing for the image's root
(every absolute path in a RUN is re-rooted there; BuildKit `--mount` flags are dropped, so uv's
own cache makes the run fast). Only the step that pip-installs uv itself is not replayed: the uv
that installed this checkout runs the rest. The runtime stage is then checked as Docker would
run it: its `COPY --from=build` of the virtualenv, its non-root USER, its ENV (the database in
the writable /data), `failsafe --help`, then ENTRYPOINT + CMD (`serve`) answering /healthz with
the HEALTHCHECK command itself reporting healthy, and unhealthy once the process is gone.
What this cannot check: the base image, the user's file permissions and the layer cache (build
the image, `docker run`, `docker inspect --format '{{.State.Health.Status}}'`).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import subprocess_log

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
HADOLINT = Path(sys.executable).parent / "hadolint"


@dataclass
class Stage:
    name: str | None
    steps: list[tuple[str, str]] = field(default_factory=list)  # (INSTRUCTION, arguments)


def parse(text: str) -> list[Stage]:
    """The Dockerfile's stages, each a list of instructions with continuation lines joined."""
    logical: list[str] = []
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):  # a comment inside a continued instruction
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        logical.append(current + line)
        current = ""
    stages: list[Stage] = []
    for instruction in logical:
        op, _, args = instruction.partition(" ")
        op = op.upper()
        if op == "FROM":
            words = args.split()
            stages.append(Stage(words[2] if len(words) == 3 and words[1].upper() == "AS" else None))
        elif stages:
            stages[-1].steps.append((op, args.strip()))
    return stages


def env_pairs(args: str) -> dict[str, str]:
    return dict(word.split("=", 1) for word in shlex.split(args))


def reroot(command: str, root: Path) -> str:
    """Every absolute path of a shell command moved under `root` (the image's / stand-in)."""
    return re.sub(r"(?<=[\s=])/(?=[A-Za-z])", f"{root}/", command)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_hadolint_passes_the_dockerfile() -> None:
    result = subprocess.run(
        [str(HADOLINT), "--no-color", str(DOCKERFILE)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_would_catch_a_bad_step(tmp_path: Path) -> None:
    # The lint is live: an unpinned pip install and a `cd` in a RUN are reported.
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:3.11-slim\nRUN cd /tmp && pip install uv\n")
    result = subprocess.run([str(HADOLINT), "--no-color", str(bad)], capture_output=True)
    assert result.returncode != 0


def test_dockerignore_keeps_the_venv_out_of_the_context() -> None:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    assert lines[lines.index("**")] == "**"  # everything excluded, then the build inputs back
    copied = {"pyproject.toml", "uv.lock", "README.md", "alembic.ini", "alembic/", "src/"}
    assert {line[1:] for line in lines if line.startswith("!")} == copied
    for stage in parse(DOCKERFILE.read_text()):
        for op, args in stage.steps:
            if op == "COPY" and not args.startswith("--from"):
                for source in args.split()[:-1]:
                    assert source in copied or source + "/" in copied, source


def test_the_build_replayed_outside_docker_installs_a_working_service(tmp_path: Path) -> None:
    build, runtime = parse(DOCKERFILE.read_text())
    assert build.name == "build"
    image = tmp_path / "image"
    image.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FAILSAFE_", "VIRTUAL_ENV"))}
    # The uv that installed this checkout, then the system's python3.11 (never this venv's).
    uv = shutil.which("uv")
    assert uv is not None
    env["PATH"] = os.pathsep.join(
        [str(Path(uv).parent), *(p for p in env["PATH"].split(os.pathsep) if ".venv" not in p)]
    )
    cwd = image
    replayed = 0
    started = time.monotonic()
    for op, args in build.steps:
        if op == "WORKDIR":
            cwd = image / args.lstrip("/")
            cwd.mkdir(parents=True, exist_ok=True)
        elif op == "ENV":
            env.update(env_pairs(args))
        elif op == "COPY":
            *sources, dest = args.split()
            target = cwd / dest
            for source in sources:
                src = ROOT / source
                if src.is_dir():
                    shutil.copytree(src, target, ignore=shutil.ignore_patterns("__pycache__"))
                else:
                    shutil.copy2(src, target)
        elif op == "RUN":
            command = re.sub(r"--mount=\S+\s+", "", args)
            if re.match(r"pip install .*\buv==", command):
                continue  # uv itself: the one on PATH runs the steps below
            result = subprocess.run(
                ["bash", "-euo", "pipefail", "-c", reroot(command, image)],
                cwd=cwd,
                env=env,
                capture_output=True,
                text=True,
                timeout=240,
            )
            assert result.returncode == 0, f"RUN {command}\n{result.stderr[-3000:]}"
            replayed += 1
        else:
            raise AssertionError(f"the replay does not know {op}: keep build steps plain")
    assert replayed >= 1
    requirements = (image / "dist" / "requirements.txt").read_text()
    assert "-e ." not in requirements and "file://" not in requirements
    build_seconds = time.monotonic() - started

    # The runtime stage: only the virtualenv comes from the build, and it runs as a non-root user.
    steps = runtime.steps
    copies = [args for op, args in steps if op == "COPY"]
    assert copies == ["--from=build /opt/failsafe /opt/failsafe"]
    user = next(args for op, args in steps if op == "USER")
    assert user.split(":")[0] not in ("root", "0")
    workdir = next(args for op, args in steps if op == "WORKDIR")
    assert workdir == "/data"
    assert any(op == "RUN" and "install -d -o failsafe" in args for op, args in steps)
    run_env: dict[str, str] = {"HOME": str(image / "home" / "failsafe"), "LANG": "C.UTF-8"}
    for op, args in steps:
        if op == "ENV":
            for key, value in env_pairs(args).items():
                value = re.sub(r"(?<=[:=/])/(?=[A-Za-z])|^/(?=[A-Za-z])", f"{image}/", value)
                run_env[key] = value.replace("$PATH", env["PATH"])
    assert run_env["PATH"].startswith(f"{image}/opt/failsafe/bin")
    assert run_env["FAILSAFE_DATABASE__URL"] == f"sqlite+aiosqlite:///{image}/data/failsafe.db"
    data = image / "data"
    data.mkdir()
    Path(run_env["HOME"]).mkdir(parents=True)
    failsafe = image / "opt" / "failsafe" / "bin" / "failsafe"
    assert failsafe.is_file()

    result = subprocess.run(
        [str(failsafe), "--help"], env=run_env, cwd=data, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "serve" in result.stdout and "ingest" in result.stdout

    # ENTRYPOINT + CMD, on loopback (the image binds 0.0.0.0; tests stay on 127.0.0.1).
    entrypoint = json.loads(next(args for op, args in steps if op == "ENTRYPOINT"))
    cmd = json.loads(next(args for op, args in steps if op == "CMD"))
    assert (entrypoint, cmd) == (["failsafe"], ["serve"])
    health = next(args for op, args in steps if op == "HEALTHCHECK")
    probe = json.loads(health.split(" CMD ", 1)[1])
    port = free_port()
    run_env |= {"FAILSAFE_SERVER__HOST": "127.0.0.1", "FAILSAFE_SERVER__PORT": str(port)}
    log = subprocess_log("image-serve")
    with log.open("ab") as err:
        proc = subprocess.Popen(
            [str(image / "opt" / "failsafe" / "bin" / entrypoint[0]), *cmd],
            env=run_env,
            cwd=data,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            check = subprocess.run(probe, env=run_env, cwd=data, capture_output=True)
            if check.returncode == 0:
                break
            assert proc.poll() is None, log.read_text(errors="replace")[-2000:]
            assert time.monotonic() < deadline, "serve never answered the healthcheck"
            time.sleep(0.2)  # polling another process's port
        assert (data / "failsafe.db").is_file()  # the embedded mode wrote its database in /data
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
    gone = subprocess.run(probe, env=run_env, cwd=data, capture_output=True, text=True)
    assert gone.returncode == 1 and "ConnectionRefusedError" in gone.stderr
    assert build_seconds < 60, f"the replayed build took {build_seconds:.0f} s"


@pytest.mark.parametrize(
    ("command", "port_arg"),
    [
        ([sys.executable, "-m", "failsafe.healthcheck"], False),  # the image's probe
        ([sys.executable, "-m", "failsafe.healthcheck"], True),  # an ingest container's
        ([str(Path(sys.executable).parent / "failsafe"), "healthcheck"], True),
    ],
)
def test_healthcheck_fails_without_a_process(command: list[str], port_arg: bool) -> None:
    port = free_port()
    env = {**os.environ, "FAILSAFE_SERVER__PORT": str(port)}
    args = ["--port", str(port)] if port_arg else []
    result = subprocess.run(
        [*command, *args],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert f"127.0.0.1:{port}/healthz" in result.stderr
