# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading an intent file (the O(src) of multinetwork_policy) as carefully as its text is parsed.

The one place of the module's core that reads a file. Only a regular file named ``*.json``,
``*.yaml`` or ``*.yml`` (after following symlinks) is opened, so a link to ``/etc/shadow`` or
``/dev/zero`` is refused by its name and never read, and no message quotes a line of it; the
type is checked with ``stat`` before opening (opening some devices has effects) and again on
the open descriptor, which is opened non-blocking so a FIFO swapped in between cannot hang the
run; at most MAX_INTENT_BYTES are read, within READ_TIMEOUT seconds.
"""
import os
import stat
import threading

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.intent import load_intent_text

INTENT_SUFFIXES = (".json", ".yaml", ".yml")
# A 1,000-workload intent is 0.2 MB of JSON (bench/compile_bench.py's); 16 MB is far beyond
# any intent and still parses in seconds.
MAX_INTENT_BYTES = 16 * 1024 * 1024
READ_TIMEOUT = 30.0
_CHUNK = 1024 * 1024


def read_intent_file(path, max_bytes=MAX_INTENT_BYTES, timeout=READ_TIMEOUT):
    """The raw intent mapping the file at `path` holds (see intent.load_intent_text)."""
    return load_intent_text(read_checked_text(path, "src", max_bytes, timeout), path)


def read_checked_text(path, field, max_bytes=MAX_INTENT_BYTES, timeout=READ_TIMEOUT):
    """The text of the intent file at `path`, after the checks above; errors name `field`."""
    real = os.path.realpath(path)
    shown = path if real == os.path.abspath(path) else "{0} (a link to {1})".format(path, real)
    if not real.lower().endswith(INTENT_SUFFIXES):
        raise MultinetError("an intent file's name must end in {0}; this one was not read".format(
            ", ".join(INTENT_SUFFIXES)), field, shown)
    try:
        before = os.stat(real)
        _require_regular(before, field, shown)
        if before.st_size > max_bytes:
            raise _too_large(max_bytes, field, shown)
        descriptor = os.open(real, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0))
    except OSError as error:
        raise MultinetError("cannot read the intent file: {0}".format(error.strerror or error), field, shown) from None
    try:
        opened = os.fstat(descriptor)
        _require_regular(opened, field, shown)
        if (opened.st_dev, opened.st_ino) != (before.st_dev, before.st_ino):
            raise MultinetError("the file was replaced while it was being opened; run again", field, shown)
    except BaseException:
        os.close(descriptor)
        raise
    data = _read_within(descriptor, max_bytes + 1, timeout, field, shown)
    if len(data) > max_bytes:
        raise _too_large(max_bytes, field, shown)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise MultinetError("is not UTF-8 text (byte {0} of the file)".format(error.start), field, shown) from None


def _require_regular(status, field, shown):
    if not stat.S_ISREG(status.st_mode):
        raise MultinetError("is {0}, not a regular file; it was not read".format(_kind(status.st_mode)), field, shown)


def _kind(mode):
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a file"


def _too_large(max_bytes, field, shown):
    return MultinetError("is larger than {0} bytes, more than any intent; it was not parsed".format(max_bytes),
                         field, shown)


def _read_within(descriptor, limit, timeout, field, shown):
    """Up to `limit` bytes, in a thread so that a read that never returns (a hung network file
    system) fails the run after `timeout` seconds instead of holding it. The thread closes the
    descriptor when it is done, never another thread: a number closed under a read still in
    progress could be reused for another file before that read loops."""
    chunks, failure = [], []

    def read():
        try:
            size = 0
            while size < limit:
                chunk = os.read(descriptor, min(_CHUNK, limit - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
        except OSError as error:
            failure.append(error)
        finally:
            os.close(descriptor)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    if reader.is_alive():
        raise MultinetError("could not be read within {0:g} seconds".format(timeout), field, shown)
    if failure:
        raise MultinetError("cannot read the intent file: {0}".format(failure[0].strerror or failure[0]), field, shown)
    return b"".join(chunks)
