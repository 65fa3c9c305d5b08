"""Processes seen from outside: who owns a TCP connection, kill -9 by pid."""

from __future__ import annotations

import os
import signal

import psutil


def socket_owner(local_port: int, remote_port: int) -> int | None:
    """The pid owning the loopback connection ``127.0.0.1:local_port -> :remote_port``."""
    for conn in psutil.net_connections(kind="tcp4"):
        if (
            conn.laddr
            and conn.raddr
            and conn.laddr.port == local_port
            and conn.raddr.port == remote_port
            and conn.pid is not None
        ):
            return int(conn.pid)
    return None


def local_ports(pid: int, remote_port: int) -> set[int]:
    """The local ports of ``pid``'s connections to ``remote_port`` (empty when it is gone)."""
    try:
        return {
            c.laddr.port
            for c in psutil.Process(pid).net_connections(kind="tcp4")
            if c.raddr and c.raddr.port == remote_port
        }
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return set()


def is_task_process(pid: int, ti_id: str) -> bool:
    """Whether ``pid`` is the task process of task instance ``ti_id`` (its process title)."""
    try:
        return ti_id in " ".join(psutil.Process(pid).cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def kill9(pid: int) -> bool:
    """``kill -9 pid``; False when it had already exited."""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    return True
