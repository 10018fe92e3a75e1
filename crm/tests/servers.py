"""Throw-away PostgreSQL and Redis servers a test starts, kills and restarts itself.

Outage tests cannot stop the shared servers other tests (and other test runs) are using, so
they get their own: a Redis on a free port, a PostgreSQL cluster in a temporary directory (run
as the `postgres` user when the tests run as root, as scripts/services.sh does).
"""
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .workers import wait_until


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def postgres_binary(name: str) -> str | None:
    """initdb/pg_ctl from PATH or Debian's versioned directory (where apt puts them)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    return str(candidates[-1]) if candidates else None


@dataclass
class RedisServer:
    port: int
    directory: Path
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert wait_until(lambda: accepts(self.port), timeout=10), "redis-server did not start"

    def kill(self) -> None:
        """kill -9: clients keep sockets to a server that is gone, as after a crash."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@contextmanager
def redis_server() -> Iterator[RedisServer]:
    directory = Path(tempfile.mkdtemp(prefix="crm-redis-"))
    server = RedisServer(free_port(), directory)
    server.start()
    try:
        yield server
    finally:
        server.kill()
        shutil.rmtree(directory, ignore_errors=True)


@dataclass
class PostgresCluster:
    port: int
    directory: Path

    @property
    def data(self) -> Path:
        return self.directory / "data"

    def url(self, database: str) -> str:
        return f"postgres://crm@127.0.0.1:{self.port}/{database}"

    def run(self, program: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [postgres_binary(program) or program, *args]
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=60, check=check)

    def create_database(self, name: str) -> str:
        self.run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "crm", name)
        return self.url(name)

    def start(self) -> None:
        self.run("pg_ctl", "-D", str(self.data), "-l", str(self.directory / "pg.log"), "-w",
                 "start")

    def stop_immediately(self) -> None:
        """pg_ctl stop -m immediate: every backend dies at once, as in a crash."""
        self.run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")


@contextmanager
def postgres_cluster() -> Iterator[PostgresCluster]:
    directory = Path(tempfile.mkdtemp(prefix="crm-pg-"))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres")
    cluster = PostgresCluster(free_port(), directory)
    cluster.run("initdb", "-D", str(cluster.data), "-U", "crm", "--auth=trust", "-E", "UTF8",
                "--locale=C.UTF-8", "--no-sync")
    with (cluster.data / "postgresql.conf").open("a") as conf:
        conf.write(f"listen_addresses = '127.0.0.1'\nport = {cluster.port}\n"
                   f"unix_socket_directories = '{directory}'\n"
                   "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n")
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.run("pg_ctl", "-D", str(cluster.data), "-m", "immediate", "stop", check=False)
        shutil.rmtree(directory, ignore_errors=True)
