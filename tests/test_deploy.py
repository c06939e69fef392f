"""The Docker engine is not available here: check the Dockerfile by reading it and by running what it runs."""
import re
import subprocess
import sys
import tomllib

import pytest

from conftest import ROOT
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


def image_files(root):
    """The image's working directory: exactly what the Dockerfile COPYs, where it COPYs it (no .mo, no caches:
    what a fresh clone holds)."""
    import shutil

    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.mo")
    for line in re.findall(r"^COPY (.+)$", DOCKERFILE, re.M):
        *sources, destination = line.split()
        for source in sources:
            target = root / destination / source if destination.endswith("/") else root / destination
            if (ROOT / source).is_dir():
                shutil.copytree(ROOT / source, target, ignore=ignore)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(ROOT / source, target)
    return root


def image_environment(home) -> dict:
    """This machine's environment as the image's: its ENV lines, no PYTHONPATH (the image runs from /app)."""
    import os

    environment = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    block = re.search(r"^ENV (.*?)(?=^\S)", DOCKERFILE, re.M | re.S).group(1)
    environment.update(re.findall(r"(\w+)=(\S+)", block))
    environment["FMNIST_HOME"] = str(home)
    return environment


@pytest.mark.slow
def test_the_images_files_print_the_teacher_link_serve_the_app_and_pass_its_health_check(isolated_home, tmp_path):
    """The image's CMD and HEALTHCHECK, run here on a copy of exactly the files the image holds (this machine's
    Python, a free loopback port): a file the app needs that the Dockerfile forgets to copy fails here."""
    import json
    import time

    from conftest import free_port
    from fmnist_core.teacher import teacher_code

    app_dir = image_files(tmp_path / "app")
    environment = image_environment(isolated_home)
    shell, flag, script = json.loads(re.search(r"^CMD (\[.*\])$", DOCKERFILE, re.M).group(1))
    assert (shell, flag) == ("sh", "-c")
    port = free_port()
    script = (script.replace("python -m", f"{sys.executable} -m").replace("8501", str(port))
              .replace("0.0.0.0", "127.0.0.1"))
    health = re.search(r"HEALTHCHECK .*?CMD (.+?)$", DOCKERFILE, re.M | re.S).group(1).replace("8501", str(port))
    process = subprocess.Popen(["sh", "-c", script], cwd=app_dir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               env={**environment, "FMNIST_PUBLIC_URL": "http://school:8501"})
    try:
        first_line = process.stdout.readline().decode()
        assert f"http://school:8501/?teacher={teacher_code(isolated_home)}" in first_line
        deadline = time.time() + 60
        while subprocess.run(["sh", "-c", health], capture_output=True).returncode != 0:
            if time.time() > deadline:
                pytest.fail("the image's command did not pass the image's health check")
            time.sleep(0.3)
    finally:
        process.terminate()
        process.wait(timeout=20)
    page = subprocess.run(
        [sys.executable, "-c", "from streamlit.testing.v1 import AppTest\n"
         "at = AppTest.from_file('app.py', default_timeout=120).run()\n"
         "assert not at.exception, at.exception\nprint(at.header[0].value, len(at.radio(key='model_kind').options))"],
        cwd=app_dir, env=environment, capture_output=True, text=True, timeout=300)
    assert page.returncode == 0, page.stderr[-2000:]
    assert page.stdout.split() == ["Build", "&", "train", "2"]  # the page and both model kinds, from /app alone


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
