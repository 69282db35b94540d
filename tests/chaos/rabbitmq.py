"""A RabbitMQ node of a chaos run's own (like scripts/services.sh starts one): killed with -9 and
started again on its data, which keeps its durable queues and the persistent messages it confirmed."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
from pathlib import Path

from tests.chaos.stack import alive, free_port, wait_for


def rabbitmq_server() -> str | None:
    """The start script (Debian's /usr/sbin one switches to the system node's user and directories)."""
    debian = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")
    return str(debian) if debian.exists() else shutil.which("rabbitmq-server")


class RabbitServer:
    def __init__(self, workdir: Path) -> None:
        self.base = workdir / "rabbitmq"
        self.port, self.dist_port, self.epmd_port = free_port(), free_port(), free_port()
        self.node = f"yunshang-chaos-{self.port}@localhost"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/%2F"

    def _env(self) -> dict[str, str]:
        base = self.base
        return {
            **os.environ,
            "HOME": str(base / "home"),  # its Erlang cookie
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "ERL_EPMD_PORT": str(self.epmd_port),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
            "RABBITMQ_CONF_ENV_FILE": str(base / "rabbitmq-env.conf"),
            "RABBITMQ_CONFIG_FILE": str(base / "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(base / "advanced.config"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "enabled_plugins"),
            "RABBITMQ_MNESIA_BASE": str(base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(base / "log"),
            "RABBITMQ_PID_FILE": str(base / "rabbitmq.pid"),
        }

    def start(self) -> None:
        server = rabbitmq_server()
        assert server, "rabbitmq-server is not installed (scripts/services.sh installs it)"
        for sub in ("home", "mnesia", "log"):
            (self.base / sub).mkdir(parents=True, exist_ok=True)
        (self.base / "enabled_plugins").write_text("[].\n")
        (self.base / "rabbitmq-env.conf").write_text("")
        (self.base / "rabbitmq.conf").write_text(
            f"listeners.tcp.1 = 127.0.0.1:{self.port}\ncluster_name = {self.node}\n"
            "log.console = false\nlog.file.level = warning\n"
        )
        (self.base / "rabbitmq.pid").unlink(missing_ok=True)
        with (self.base / "server.out").open("ab") as out:
            self.proc = subprocess.Popen(
                [server],
                env=self._env(),
                cwd=self.base,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_for(self._answers, 90, "the run's RabbitMQ to answer")

    def _answers(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"rabbitmq-server exited: {(self.base / 'server.out').read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"AMQP\x00\x00\x09\x01")
                frame = s.recv(65536)
        except OSError:
            return False
        return frame[:1] == b"\x01" and self.node.encode() in frame

    def _beam(self) -> int | None:
        try:
            return int((self.base / "rabbitmq.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def kill(self) -> None:
        """kill -9 the node (no clean shutdown): what it confirmed must be on disk."""
        beam = self._beam()
        if beam is not None and alive(beam):
            os.kill(beam, signal.SIGKILL)
        assert self.proc is not None
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        beam = self._beam()
        if beam is not None and alive(beam):
            os.kill(beam, signal.SIGTERM)  # a graceful stop
            try:
                wait_for(lambda: not alive(beam), 20, "the run's RabbitMQ to stop")
            except AssertionError:
                os.kill(beam, signal.SIGKILL)
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        epmd = shutil.which("epmd")
        if epmd:  # the node's own epmd (on its own port)
            subprocess.run([epmd, "-port", str(self.epmd_port), "-kill"], capture_output=True, timeout=10)
