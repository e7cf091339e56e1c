"""A real IMAP server on loopback for the inbound-mail tests: Debian's dovecot, started
once per run in a throwaway directory, in the foreground, without SSL; every password
is ``PASSWORD`` and every user name a mailbox of its own, so ``imap_account`` gives each
test an empty one. Without dovecot (``DOVECOT_PATH``, default /usr/sbin/dovecot) the
tests skip, unless REQUIRE_SERVICES=1."""

from __future__ import annotations

import grp
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.requirements import REQUIRE_SERVICES, need
from tests.support.smtp import free_port

DOVECOT = os.environ.get("DOVECOT_PATH", "/usr/sbin/dovecot")
PASSWORD = "imap-secret"

CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_failure_delay = 0
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
first_valid_uid = {uid}
first_valid_gid = {gid}
mail_location = maildir:~/Maildir
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
# Unprivileged, no process may chroot.
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


@dataclass(frozen=True)
class ImapServer:
    host: str
    port: int
    log: Path

    def url(self, user: str, folder: str = "INBOX") -> str:
        return f"imap://{user}:{PASSWORD}@{self.host}:{self.port}/{folder}"


def _unprivileged() -> pwd.struct_passwd:
    """Whom dovecot's processes run as. As root, ``nobody``: its login processes refuse
    root, and so does mail access (a userdb uid of 0 is an error whatever
    first_valid_uid says); otherwise the user running the tests, for everything."""
    return pwd.getpwnam("nobody") if os.geteuid() == 0 else pwd.getpwuid(os.geteuid())


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
            return conn.recv(4).startswith(b"* OK")
    except OSError:
        return False


def _log_tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"


# Named apart from their fixtures, so a test module can import them and still take
# ``imap_server`` as an argument (ruff: F811).
@pytest.fixture(scope="session", name="imap_server")
def imap_server_fixture() -> Iterator[ImapServer]:
    need(
        os.access(DOVECOT, os.X_OK),
        f"needs dovecot at {DOVECOT} (apt-get install dovecot-imapd, or DOVECOT_PATH)",
        required=REQUIRE_SERVICES,
    )
    # Not pytest's tmp_path: unprivileged processes must reach the mail folders, and
    # the sockets in base_dir need a short path (108 bytes at most).
    root = Path(tempfile.mkdtemp(prefix="dovecot-"))
    runner = _unprivileged()
    (root / "mail").mkdir()
    if os.geteuid() == 0:
        root.chmod(0o711)
        os.chown(root / "mail", runner.pw_uid, runner.pw_gid)
    port = free_port()
    settings = {"root": root, "port": port, "password": PASSWORD}
    settings |= {"user": runner.pw_name, "uid": runner.pw_uid, "gid": runner.pw_gid}
    settings["group"] = grp.getgrgid(runner.pw_gid).gr_name
    (root / "dovecot.conf").write_text(CONFIG.format(**settings))
    server = ImapServer("127.0.0.1", port, root / "dovecot.log")
    with open(root / "stderr.log", "wb") as stderr:
        process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(root / "dovecot.conf")],
            stdout=stderr,
            stderr=stderr,
        )
    try:
        # Polled by count, not by the clock: the tests' clock stands still.
        for _ in range(100):
            if process.poll() is not None or _listening(port):
                break
            time.sleep(0.1)
        if not _listening(port):
            output = (root / "stderr.log").read_text(errors="replace")
            pytest.fail(f"dovecot did not start:\n{output}\n{_log_tail(server.log)}")
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(root, ignore_errors=True)


_accounts = itertools.count(1)


@pytest.fixture(name="imap_account")
def imap_account_fixture(imap_server: ImapServer) -> str:
    """A user name whose mailbox is still empty (dovecot makes it at first login)."""
    return f"user{next(_accounts)}"
