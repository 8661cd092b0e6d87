"""Errors of the literature library; each prints as one line through the CLI."""

from __future__ import annotations

from aisci.errors import AisciError


class LiteratureError(AisciError):
    """Base for literature-library errors."""


class BibImportError(LiteratureError):
    """A .bib file cannot be read at all (missing, unreadable)."""


class LibraryError(LiteratureError):
    """The study's literature library is damaged or cannot be written."""


class SourceError(LiteratureError):
    """An online source failed (after its bounded retries); search falls back to others."""

    def __init__(self, source: str, message: str):
        super().__init__(f"{source}: {message}")
        self.source = source
        self.reason = message


class SourceNotFound(SourceError):
    """The source answered 404: the paper or DOI does not exist there."""
