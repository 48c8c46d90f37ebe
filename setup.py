"""Build the optional C core (rex_env._core._cexchange); the package works without it.

``pip install .`` / ``pip install -e .`` compile the extension with Cython when a C compiler
is there. If the build fails (no compiler, ``CC=false``), the install still succeeds and
``rex_env.exchange`` falls back to the pure-Python engine with a warning.

``REX_SANITIZE=1`` builds with AddressSanitizer and UBSan (``-O1 -g``), ``REX_DEBUG=1`` with
``-O0 -g`` for gdb; see the README.
"""

from __future__ import annotations

import os
import sys

from setuptools import setup
from setuptools.command.build_ext import build_ext

SANITIZE = os.environ.get("REX_SANITIZE") == "1"
DEBUG = os.environ.get("REX_DEBUG") == "1"


class OptionalBuildExt(build_ext):
    """Build the C core if possible; otherwise warn and install the pure-Python package."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # noqa: BLE001 - any build failure means: no C core
            self._skip(exc)

    def build_extension(self, ext) -> None:  # type: ignore[no-untyped-def]
        try:
            super().build_extension(ext)
        except Exception as exc:  # noqa: BLE001
            self._skip(exc)

    @staticmethod
    def _skip(exc: BaseException) -> None:
        print(f"WARNING: rex_env C core not built ({exc}); the pure-Python engine will be "
              "used", file=sys.stderr)


def extensions() -> list:
    try:
        from Cython.Build import cythonize
        from setuptools import Extension
    except ImportError as exc:
        print(f"WARNING: Cython missing ({exc}); the pure-Python engine will be used",
              file=sys.stderr)
        return []
    # no fused multiply-add: the compiled decisions and bookkeeping round every product and sum
    # as Python does (tests compare them bit for bit)
    cflags = ["-std=c11", "-Wall", "-Wno-unused-function", "-ffp-contract=off"]
    lflags: list[str] = []
    if SANITIZE:
        cflags += ["-O1", "-g", "-fno-omit-frame-pointer", "-fsanitize=address,undefined",
                   "-fno-sanitize-recover=undefined"]
        lflags += ["-fsanitize=address,undefined"]
    elif DEBUG:
        cflags += ["-O0", "-g"]
    else:
        cflags += ["-O2"]
    ext = Extension(
        "rex_env._core._cexchange",
        sources=["rex_env/_core/_cexchange.pyx", "rex_env/_core/rex_core.c",
                 "rex_env/_core/rex_lob3d.c"],
        include_dirs=["rex_env/_core"],
        extra_compile_args=cflags,
        extra_link_args=lflags,
    )
    try:
        return cythonize([ext], language_level=3, quiet=True)
    except Exception as exc:  # noqa: BLE001
        print(f"WARNING: cythonize failed ({exc}); the pure-Python engine will be used",
              file=sys.stderr)
        return []


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
