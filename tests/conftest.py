"""Shared fixtures (the shipped samples, copied so no test can touch the originals) and the
hypothesis profile."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

# No per-example deadline: these are correctness properties, many over real files, and a
# shared machine makes a cold first example take 300 ms now and then. Speed is measured by
# benchmarks/, never by a timed test.
settings.register_profile("dedup", deadline=None)
settings.load_profile("dedup")

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "samples"
PLAIN = "000_8bcd120cc8060ff3.txt"
WRAPPED = "001_288da1160778f453.txt"
OTHERS = ("002_9e8087d3640a9bf4.txt", "003_43b52356814ea5f4.txt", "004_f149d07a8263552c.txt")


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own signature cache folder: none touches the user's."""
    folder = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("DEDUP_CACHE_DIR", str(folder))
    return folder


@pytest.fixture
def samples_dir(tmp_path: Path) -> Iterator[Path]:
    """A copy of samples/; after the test, the copy must be byte-for-byte unchanged."""
    target = tmp_path / "samples"
    shutil.copytree(SAMPLES, target)
    before = _digests(target)
    yield target
    assert _digests(target) == before, "a scan modified its input files"


@pytest.fixture
def sample_texts() -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(SAMPLES.iterdir())}


@contextlib.contextmanager
def started_ray(object_store_mb: int = 256) -> Iterator[None]:
    """A local Ray with the two CPUs CI has, for one test module, shut down after it."""
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, object_store_memory=object_store_mb << 20)
    try:
        yield
    finally:
        ray.shutdown()


def child_pids(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (Linux's /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if ppid == pid:
                found.append(int(entry))
    return found


@contextlib.contextmanager
def s3_bucket(bucket: str, files: dict[str, bytes]) -> Iterator[Any]:
    """An S3 endpoint on 127.0.0.1 (moto's server) holding ``files`` (key -> bytes) in
    ``bucket``; the environment points pyarrow and boto3 at it while the context lasts.
    Yields the boto3 client. Needs the s3test extra: callers skip without it."""
    import boto3
    from moto import server as moto_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the server's line a request
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        with pytest.MonkeyPatch.context() as env:
            for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                                ("AWS_DEFAULT_REGION", "us-east-1"), ("AWS_ENDPOINT_URL", endpoint),
                                ("AWS_EC2_METADATA_DISABLED", "true")):  # fmt: skip
                env.setenv(name, value)
            client: Any = boto3.client("s3", endpoint_url=endpoint)
            client.create_bucket(Bucket=bucket)
            for key, body in files.items():
                client.put_object(Bucket=bucket, Key=key, Body=body)
            yield client
    finally:
        server.stop()
