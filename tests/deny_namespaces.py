"""Run a command where new namespaces are refused, as Docker's default seccomp profile does
(the Binder case): a seccomp filter makes unshare(), setns() and clone() with any CLONE_NEW*
flag fail with EPERM, and clone3() with ENOSYS (so the C library falls back to clone). Only
this process and its children are affected; nothing of the machine changes.

    python tests/deny_namespaces.py COMMAND [ARG...]

Exits 3 (without running COMMAND) where the filter cannot be installed (not x86-64 or
aarch64 Linux)."""

from __future__ import annotations

import ctypes
import os
import platform
import struct
import sys

PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
LD_ABS_W, JEQ_K, JSET_K, RET_K = 0x20, 0x15, 0x45, 0x06
RET_ALLOW, RET_ERRNO = 0x7FFF0000, 0x00050000
EPERM, ENOSYS = 1, 38
CLONE_NEW_FLAGS = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000 | 0x80
# machine: (audit arch, unshare, setns, clone, clone3)
SYSCALLS = {"x86_64": (0xC000003E, 272, 308, 56, 435), "aarch64": (0xC00000B7, 97, 268, 220, 435)}


def program(arch: int, unshare: int, setns: int, clone: int, clone3: int) -> list[tuple[int, int, int, int]]:
    allow, eperm, enosys = 10, 11, 12  # the indexes of the three return instructions below
    code = [
        (LD_ABS_W, 0, 0, 4),  # 0: seccomp_data.arch
        (JEQ_K, 0, allow - 2, arch),  # 1: another ABI: allow
        (LD_ABS_W, 0, 0, 0),  # 2: seccomp_data.nr
        (JEQ_K, eperm - 4, 0, unshare),  # 3
        (JEQ_K, eperm - 5, 0, setns),  # 4
        (JEQ_K, enosys - 6, 0, clone3),  # 5
        (JEQ_K, 0, allow - 7, clone),  # 6: not clone: allow
        (LD_ABS_W, 0, 0, 16),  # 7: clone's flags (args[0], low half)
        (JSET_K, eperm - 9, 0, CLONE_NEW_FLAGS),  # 8
        (JEQ_K, 0, 0, 0),  # 9: padding, falls through
        (RET_K, 0, 0, RET_ALLOW),  # 10
        (RET_K, 0, 0, RET_ERRNO | EPERM),  # 11
        (RET_K, 0, 0, RET_ERRNO | ENOSYS),  # 12
    ]
    return code


def install() -> bool:
    numbers = SYSCALLS.get(platform.machine())
    if numbers is None or not sys.platform.startswith("linux"):
        return False
    code = program(*numbers)
    raw = b"".join(struct.pack("HBBI", *insn) for insn in code)
    buffer = ctypes.create_string_buffer(raw, len(raw))

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    prog = SockFprog(len(code), ctypes.addressof(buffer))
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return False
    return libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) == 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: deny_namespaces.py COMMAND [ARG...]")
    if not install():
        sys.exit(3)
    os.execvp(sys.argv[1], sys.argv[1:])
