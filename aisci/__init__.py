"""aisci: automated ML research as a chain of executable notebooks."""

from aisci.records import record
from aisci.version import STUDY_FORMAT_VERSION, __version__

__all__ = ["record", "__version__", "STUDY_FORMAT_VERSION"]


def load_ipython_extension(ipython):  # `%load_ext aisci`
    from aisci.ipython_ext import load_ipython_extension as load

    load(ipython)
