"""permitkit.settings: validated at start, one clear line for a bad setting."""

from __future__ import annotations

import subprocess
import sys

import pytest

from permitkit.settings import (
    SettingsError,
    env_addr,
    env_bool,
    env_database_url,
    env_grpc_bind,
    env_int,
)


def test_int_setting_rejects_garbage_with_its_name():
    with pytest.raises(SettingsError, match="PERMIT_X_GRPC_PORT must be an integer, got 'abc'"):
        env_int({"PERMIT_X_GRPC_PORT": "abc"}, "PERMIT_X_GRPC_PORT", 1)


def test_port_out_of_range_is_refused():
    with pytest.raises(SettingsError, match="between 0 and 65535"):
        env_grpc_bind({"PERMIT_ROUTING_GRPC_PORT": "70000"}, "routing")


def test_bool_and_defaults():
    assert env_bool({}, "A", True) is True
    assert env_bool({"A": "0"}, "A", True) is False
    with pytest.raises(SettingsError):
        env_bool({"A": "maybe"}, "A", True)
    assert env_grpc_bind({}, "approval") == ("127.0.0.1", 50055)


def test_database_url_defaults_to_sqlite_and_requires_psycopg_driver(tmp_path):
    assert env_database_url({"PERMIT_DATA_DIR": str(tmp_path)}, "routing") == f"sqlite:///{tmp_path}/routing.db"
    with pytest.raises(SettingsError, match="psycopg"):
        env_database_url({"PERMIT_ROUTING_DATABASE_URL": "postgresql://x/y"}, "routing")
    with pytest.raises(SettingsError):
        env_database_url({"PERMIT_ROUTING_DATABASE_URL": "mysql://x/y"}, "routing")


def test_peer_address_must_be_host_port():
    assert env_addr({}, "identity") == "127.0.0.1:50051"
    with pytest.raises(SettingsError, match="APPROVAL_SERVICE_ADDR"):
        env_addr({"APPROVAL_SERVICE_ADDR": "nohost"}, "approval")


def test_run_main_prints_one_line_and_exits_2():
    code = ("from permitkit.settings import run_main, env_int\n"
            "run_main(lambda: env_int({'P': 'x'}, 'P', 1))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "configuration error: P must be an integer, got 'x'"


def test_run_main_waits_for_threads_that_end_and_exits_with_the_code():
    code = ("import threading, time\n"
            "from permitkit.settings import run_main\n"
            "def main():\n"
            "    threading.Thread(target=time.sleep, args=(1.0,), name='finishing').start()\n"
            "    return 3\n"
            "run_main(main)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 3
    assert proc.stderr == ""


def test_run_main_names_a_thread_that_does_not_end_and_still_exits():
    """A stopped service must end: a thread blocked for ever is named with its stack, not waited for."""
    code = ("import threading\n"
            "import permitkit.settings as s\n"
            "s.STOP_JOIN_SECONDS = 1.0\n"
            "def main():\n"
            "    threading.Thread(target=threading.Event().wait, name='rpc_7').start()\n"
            "    return 0\n"
            "s.run_main(main)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0
    assert "thread 'rpc_7' still running" in proc.stderr
    assert "in wait" in proc.stderr  # its stack says where it is blocked
