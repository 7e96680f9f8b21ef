"""The image, read as Docker reads the Dockerfile (no engine here to build it): a builder that
installs the locked dependencies, and a runtime stage with no Poetry, no compiler, no root."""

import re

import pytest

from testing.servers import ROOT


def stages() -> dict[str, list[str]]:
    """Each stage's instructions (continuation lines joined), by the stage's name."""
    text = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text())
    instructions = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    found: dict[str, list[str]] = {}
    current = ""
    for instruction in instructions:
        if match := re.match(r"FROM \S+ AS (\w+)$", instruction):
            current = match.group(1)
            found[current] = []
        if current:
            found[current].append(instruction)
    return found


@pytest.fixture(scope="module")
def runtime() -> list[str]:
    return stages()["runtime"]


def test_two_stages_from_one_pinned_python_image():
    text = (ROOT / "Dockerfile").read_text()
    assert list(stages()) == ["builder", "runtime"]
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11\.\d+-slim-bookworm$", text, re.MULTILINE)
    assert all(stage[0].startswith("FROM ${PYTHON_IMAGE} AS ") for stage in stages().values())


def test_the_builder_installs_exactly_what_the_lock_says():
    builder = " ".join(stages()["builder"])
    assert "COPY pyproject.toml poetry.lock ./" in builder
    assert "poetry export --only main" in builder
    assert "pip install --require-hashes --no-deps -r requirements.txt" in builder


def test_the_runtime_has_no_poetry_no_compiler_and_no_root(runtime):
    joined = " ".join(runtime)
    assert "poetry" not in joined.lower()
    assert not re.search(r"\b(gcc|build-essential|apt-get install)\b", joined)
    assert "COPY --from=builder /opt/venv /opt/venv" in runtime
    (user,) = [i.split()[1] for i in runtime if i.startswith("USER ")]
    assert user not in ("root", "0")
    assert runtime.index(f"USER {user}") > max(i for i, line in enumerate(runtime) if line.startswith("RUN "))


def test_the_image_has_a_healthcheck(runtime):
    (healthcheck,) = [i for i in runtime if i.startswith("HEALTHCHECK ")]
    assert "/health/live" in healthcheck


def test_the_build_context_leaves_out_local_state():
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", ".tools", ".env", ".run"} <= ignored
