"""aisci's version and the study folder format it writes (a module of its own, so that any
module can read them without importing the package's entry points)."""

__version__ = "0.1.0"
STUDY_FORMAT_VERSION = 1
