"""The school's topology without containers: a PostgreSQL server, N app processes (Streamlit replicas sharing one
FMNIST_HOME and the run store), and nginx in front with sticky sessions, from the same nginx file compose.yaml
uses. `make replicas` runs it until Ctrl+C; the test suite starts it the same way (tests/test_replicas.py).

    python deploy/topology.py --replicas 3 --port 8080                 # its own PostgreSQL in a temporary folder
    python deploy/topology.py --database-url postgresql://…/fmnist     # an existing server

PostgreSQL is Debian's (`/usr/lib/postgresql/15/bin`), started as the `postgres` user when run as root (it refuses
root); nginx is Debian's `nginx`, run in the foreground with its files in the topology's folder."""
from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NGINX_TEMPLATE = ROOT / "deploy" / "nginx" / "fmnist.conf.template"
POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_healthy(url: str, seconds: float = 90) -> bool:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(url + "/_stcore/health", timeout=2).read() == b"ok":
                return True
        except OSError:
            time.sleep(0.3)
    return False


def _as_postgres(*command: str) -> subprocess.CompletedProcess:
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run([*prefix, *command], check=True, capture_output=True, text=True)


class PostgresServer:
    """A throw-away PostgreSQL: initdb, pg_ctl start / stop in `folder` on a loopback `port`."""

    def __init__(self, folder: Path, port: int | None = None):
        self.folder, self.port = Path(folder), port or free_port()
        self.data = self.folder / "data"
        self.created = 0

    def init(self) -> PostgresServer:
        self.folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        _as_postgres(str(POSTGRES_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
                     "--no-sync", "-E", "UTF8")
        return self

    def start(self) -> PostgresServer:
        _as_postgres(str(POSTGRES_BIN / "pg_ctl"), "-D", str(self.data), "-w", "-l", str(self.folder / "log"),
                     "-o", f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
                           "-c max_connections=200", "start")
        return self

    def stop(self) -> None:
        _as_postgres(str(POSTGRES_BIN / "pg_ctl"), "-D", str(self.data), "-w", "-m", "fast", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres:not-a-secret@127.0.0.1:{self.port}/{database}"

    def database(self, name: str | None = None) -> str:
        """A new, empty database; its URL."""
        import psycopg

        self.created += 1
        name = name or f"store_{os.getpid()}_{self.created}"
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def nginx_config(folder: Path, listen: int, upstreams: list[int]) -> Path:
    """nginx's own file for this machine: the shared server block (deploy/nginx) with loopback replicas."""
    (folder / "nginx-temp").mkdir(parents=True, exist_ok=True)
    os.chmod(folder / "nginx-temp", 0o777)  # nginx's workers may run as another user
    upstream_file = folder / "upstreams.conf"
    upstream_file.write_text("".join(f"server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;\n"
                                     for port in upstreams))
    server = (NGINX_TEMPLATE.read_text().replace("${FMNIST_LISTEN}", f"127.0.0.1:{listen}")
              .replace("${FMNIST_UPSTREAMS}", str(upstream_file)))
    (folder / "fmnist.conf").write_text(server)
    temp = folder / "nginx-temp"
    config = folder / "nginx.conf"
    config.write_text(f"""worker_processes 1;
pid {folder / 'nginx.pid'};
error_log {folder / 'nginx-error.log'} warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {folder / 'fmnist.conf'};
}}
""")
    return config


class Topology:
    """PostgreSQL (optional), N app replicas and nginx, started and stopped together."""

    def __init__(self, replicas: int = 2, port: int | None = None, database_url: str | None = None,
                 folder: Path | None = None, home: Path | None = None, environment: dict | None = None):
        self.folder = Path(folder or tempfile.mkdtemp(prefix="fmnist-school-"))
        self.home = Path(home or self.folder / "home")
        self.port = port or free_port()
        self.replica_ports = [free_port() for _ in range(replicas)]
        self.postgres: PostgresServer | None = None
        self.database_url = database_url
        self.environment = environment or {}
        self.processes: dict[int, subprocess.Popen] = {}
        self.nginx: subprocess.Popen | None = None
        self.cookie_secret = secrets.token_hex(16)  # one for every replica: a browser's cookies are good on each

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Topology:
        self.folder.mkdir(parents=True, exist_ok=True)
        os.chmod(self.folder, 0o755)  # the postgres user (and nginx's workers) pass through it
        self.home.mkdir(parents=True, exist_ok=True)
        if self.database_url is None:
            self.postgres = PostgresServer(self.folder / "postgres").init().start()
            self.database_url = self.postgres.database("fmnist")
        for index in range(len(self.replica_ports)):
            self.start_replica(index)
        for port in self.replica_ports:
            if not wait_healthy(f"http://127.0.0.1:{port}"):
                raise RuntimeError(f"replica on port {port} did not start: see {self.folder}/replica-*.log")
        config = nginx_config(self.folder, self.port, self.replica_ports)
        self.nginx = subprocess.Popen(["nginx", "-c", str(config), "-p", str(self.folder), "-g", "daemon off;"],
                                      stdout=subprocess.DEVNULL, stderr=open(self.folder / "nginx.log", "wb"))
        if not wait_healthy(self.url, 30):
            raise RuntimeError(f"nginx did not start: see {self.folder}/nginx-error.log")
        return self

    def start_replica(self, index: int) -> None:
        port = self.replica_ports[index]
        environment = dict(os.environ, FMNIST_HOME=str(self.home), FMNIST_DATABASE_URL=self.database_url,
                           FMNIST_PUBLIC_URL=self.url, STREAMLIT_SERVER_COOKIE_SECRET=self.cookie_secret,
                           PYTHONPATH=str(ROOT), **self.environment)
        environment.setdefault("FMNIST_MAX_JOBS", str(max(1, (os.cpu_count() or 2) // 2 // len(self.replica_ports))))
        log = open(self.folder / f"replica-{index}.log", "ab")  # noqa: SIM115 - kept open by the process
        self.processes[index] = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true"],
            cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def replica_of(self, route: str) -> int:
        """Which replica nginx sends a browser with this route cookie to."""
        request = urllib.request.Request(self.url + "/_stcore/health", headers={"Cookie": f"fmnist_route={route}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            upstream = response.headers.get("X-Fmnist-Replica", "")
        return self.replica_ports.index(int(upstream.rsplit(":", 1)[1]))

    def route_to(self, index: int) -> str:
        """A route cookie's value that nginx sends to replica `index`."""
        for attempt in range(500):
            route = f"route-{attempt}"
            if self.replica_of(route) == index:
                return route
        raise RuntimeError(f"no route reaches replica {index}")

    def kill_replica(self, index: int) -> None:
        """As if the machine under it lost power: SIGKILL to the replica and its training workers."""
        process = self.processes[index]
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)

    def stop(self) -> None:
        if self.nginx is not None and self.nginx.poll() is None:
            self.nginx.terminate()
            self.nginx.wait(10)
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)
        if self.postgres is not None:
            try:
                self.postgres.stop()
            except subprocess.CalledProcessError:
                pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--port", type=int, default=8080, help="the balancer's port (students open it)")
    parser.add_argument("--database-url", help="an existing PostgreSQL (default: start one in the folder)")
    parser.add_argument("--folder", type=Path, help="where the servers keep their files (default: a temporary one)")
    args = parser.parse_args()
    topology = Topology(args.replicas, args.port, args.database_url, args.folder).start()
    from fmnist_core.teacher import teacher_code, teacher_link

    print(f"{args.replicas} app processes behind nginx at {topology.url} (files in {topology.folder})")
    print(f"Teacher link: {teacher_link(topology.url, teacher_code(topology.home))}", flush=True)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})  # this script's own process
    try:
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    finally:
        topology.stop()
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
