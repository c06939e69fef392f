"""The Docker engine is not available here: check the Dockerfile by reading it and by running what it runs."""
import re
import subprocess
import sys
import tomllib

import pytest

from conftest import ROOT, subprocess_env
from fmnist_core.transfer import MAX_MODEL_BYTES
from fmnist_core.uploads import MAX_UPLOAD_BYTES

DOCKERFILE = (ROOT / "Dockerfile").read_text()


def test_dockerfile_copies_what_exists_and_runs_as_non_root():
    assert re.search(r"^FROM python:3\.11-slim-bookworm", DOCKERFILE, re.M)  # Debian-based
    assert "dataset-fashion-mnist" in DOCKERFILE
    assert re.search(r"install .*\bgcc libc6-dev\b", DOCKERFILE)  # builds the fused first-stage kernel
    for source in re.findall(r"^COPY (\S+) ", DOCKERFILE, re.M):
        assert (ROOT / source).exists(), source
    users = re.findall(r"^USER (\S+)", DOCKERFILE, re.M)
    assert users and users[-1] not in ("root", "0")
    assert re.search(r"^EXPOSE 8501$", DOCKERFILE, re.M)
    assert "/_stcore/health" in DOCKERFILE.split("HEALTHCHECK", 1)[1]
    assert "--server.headless=true" in DOCKERFILE


def test_dockerfile_installs_the_pinned_requirements():
    requirements = (ROOT / "requirements.txt").read_text()
    assert "torch==2.14.1" in requirements and "torchvision==0.29.1" in requirements
    assert "pip install --no-cache-dir -r requirements.txt" in DOCKERFILE


def test_streamlit_config_is_classroom_sane():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["headless"] is True
    assert config["server"]["enableXsrfProtection"] is True
    # The server's cap fits the largest model file; pictures have their own 5 MB cap on their uploader.
    assert config["server"]["maxUploadSize"] * 2**20 == MAX_MODEL_BYTES
    assert MAX_UPLOAD_BYTES == 5 * 2**20
    assert config["browser"]["gatherUsageStats"] is False
    assert config["server"]["fileWatcherType"] == "none"  # no reloads mid-lesson, no watching .venv


@pytest.mark.slow
def test_the_image_command_prints_the_teacher_link_then_serves_the_app(isolated_home):
    """The image's CMD, run here as the image would run it (this machine's Python, a free loopback port)."""
    import json
    import time
    import urllib.request

    from conftest import free_port
    from fmnist_core.teacher import teacher_code

    shell, flag, script = json.loads(re.search(r"^CMD (\[.*\])$", DOCKERFILE, re.M).group(1))
    assert (shell, flag) == ("sh", "-c")
    port = free_port()
    script = (script.replace("python -m", f"{sys.executable} -m").replace("8501", str(port))
              .replace("0.0.0.0", "127.0.0.1"))
    process = subprocess.Popen(["sh", "-c", script], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               env={**subprocess_env(isolated_home), "FMNIST_PUBLIC_URL": "http://school:8501"})
    try:
        first_line = process.stdout.readline().decode()
        assert f"http://school:8501/?teacher={teacher_code(isolated_home)}" in first_line
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail("the image's command did not serve the app")
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_the_image_can_be_built_with_cluster_support():
    assert "ray==2.60.0" in (ROOT / "requirements-cluster.txt").read_text()
    assert re.search(r"^ARG CLUSTER=0$", DOCKERFILE, re.M)
    assert 'if [ "$CLUSTER" = 1 ]; then pip install --no-cache-dir -r requirements-cluster.txt' in DOCKERFILE
    assert "requirements-cluster.txt" in re.search(r"^COPY requirements\.txt (.*)$", DOCKERFILE, re.M).group(1)


@pytest.mark.usefixtures("fresh_app_resources")
def test_each_uploader_on_the_page_carries_its_own_cap(isolated_home, small_data):
    """The server-wide cap fits model files; the picture uploader must say 5 MB itself (what the browser enforces)."""
    from conftest import app, tiny_cnn_run
    from fmnist_core.cache import open_store
    from fmnist_core.runs import train_run

    train_run(tiny_cnn_run(), open_store(isolated_home), isolated_home, data=small_data)
    at = app()
    at.switch_page("app_pages/explore.py").run()
    caps = {element.proto.label: element.proto.max_upload_size_mb for element in at.get("file_uploader")}
    assert caps["Try your own picture"] * 2**20 == MAX_UPLOAD_BYTES
    assert caps["Bring a model back (.pt file downloaded from this app)"] * 2**20 == MAX_MODEL_BYTES
