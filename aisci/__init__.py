"""aisci: automated ML research as a chain of executable notebooks."""

from aisci.version import STUDY_FORMAT_VERSION, __version__

__all__ = ["record", "__version__", "STUDY_FORMAT_VERSION"]


def __getattr__(name: str):
    # `aisci.record` (for notebooks) loads pydantic: the CLI, which imports this package first, need not
    if name == "record":
        from aisci.records import record

        return record
    raise AttributeError(f"module 'aisci' has no attribute {name!r}")


def load_ipython_extension(ipython):  # `%load_ext aisci`
    from aisci.ipython_ext import load_ipython_extension as load

    load(ipython)
