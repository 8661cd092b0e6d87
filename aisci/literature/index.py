"""The search index: SQLite FTS5 over title, abstract, keywords, venue and authors, BM25-ranked.

The index also stores every reference (its BibTeX fields as JSON), so listing and key
look-ups need no re-parse of the .bib. It remembers the digest of the .bib it was built
from; the Library rebuilds it when the file changed behind its back (a hand edit).
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

from aisci.literature.errors import LibraryError
from aisci.literature.model import Reference, fields_json

# Relative weights of the columns in BM25 (order = the FTS table's column order).
COLUMN_WEIGHTS = {"title": 10.0, "abstract": 3.0, "keywords": 5.0, "venue": 1.0, "authors": 2.0}
# Two more FTS columns, weighted 0, that pick the rows a query ranks without adding to their
# score (see SearchIndex._candidates): `heading` repeats title and keywords, `every` holds
# one token, EVERY_ROW, in every row.
EVERY_ROW = "aisciallrows"
_SELECTOR_COLUMNS = {"heading": "coalesce(title, '') || ' ' || coalesce(keywords, '')", "every": f"'{EVERY_ROW}'"}
SCHEMA_VERSION = "2"
RANK_BUDGET = 8_000  # rows a query's BM25 is computed over, at most (about a microsecond each)
RECENT_ROWS = 4096  # rows a query of common words only is ranked among at first (see SearchIndex.search)
_COLUMNS = "key, entry_type, fields, source, line"
_FTS_COLUMNS = (*COLUMN_WEIGHTS, *_SELECTOR_COLUMNS)
_BM25 = f"bm25(refs_fts, {', '.join(str(w) for w in COLUMN_WEIGHTS.values())}, {', '.join('0' for _ in _SELECTOR_COLUMNS)})"

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS refs (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    entry_type TEXT NOT NULL,
    fields TEXT NOT NULL,
    source TEXT,
    line INTEGER,
    title TEXT, abstract TEXT, keywords TEXT, venue TEXT, authors TEXT,
    year INTEGER, doi TEXT, arxiv TEXT, norm_title TEXT, ids TEXT,
    {", ".join(f"{name} TEXT GENERATED ALWAYS AS ({value}) VIRTUAL" for name, value in _SELECTOR_COLUMNS.items())}
);
CREATE INDEX IF NOT EXISTS refs_title ON refs(norm_title);
CREATE INDEX IF NOT EXISTS refs_doi ON refs(doi);
CREATE INDEX IF NOT EXISTS refs_arxiv ON refs(arxiv);
CREATE VIRTUAL TABLE IF NOT EXISTS refs_fts USING fts5(
    {", ".join(_FTS_COLUMNS)},
    content='refs', content_rowid='id',
    tokenize='porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER IF NOT EXISTS refs_ai AFTER INSERT ON refs BEGIN
    INSERT INTO refs_fts(rowid, {", ".join(_FTS_COLUMNS)})
    VALUES (new.id, {", ".join("new." + c for c in _FTS_COLUMNS)});
END;
CREATE TRIGGER IF NOT EXISTS refs_ad AFTER DELETE ON refs BEGIN
    INSERT INTO refs_fts(refs_fts, rowid, {", ".join(_FTS_COLUMNS)})
    VALUES ('delete', old.id, {", ".join("old." + c for c in _FTS_COLUMNS)});
END;
"""
_DROP = ("DROP TRIGGER IF EXISTS refs_ai; DROP TRIGGER IF EXISTS refs_ad;"
         " DROP TABLE IF EXISTS refs_fts; DROP TABLE IF EXISTS refs;")

_PHRASE = re.compile(r'"([^"]*)"')
_WORD = re.compile(r"\w+", re.UNICODE)
_STOPWORDS = frozenset("a an and are as at be by for from in is it of on or that the to with".split())


def fts_query(text: str) -> str | None:
    """User text -> a safe FTS5 MATCH expression, or None when it holds no searchable word.

    Every word and every "quoted phrase" becomes a quoted FTS5 string, so operators and
    punctuation in the user's text (`(a+b)`, `NOT`, `-`, `*`, a stray quote) are literal.
    Terms are OR-ed: BM25 then ranks papers matching more (and rarer) terms first.
    """
    terms = fts_terms(text)
    return " OR ".join(terms) if terms else None


def fts_terms(text: str) -> list[str]:
    """The quoted FTS5 strings of `fts_query`, each once."""
    terms: list[str] = []
    for phrase in _PHRASE.findall(text):
        words = _WORD.findall(phrase)
        if words:
            terms.append('"' + " ".join(words) + '"')
    rest = _PHRASE.sub(" ", text)
    words = _WORD.findall(rest)
    content = [w for w in words if w.lower() not in _STOPWORDS]
    terms += [f'"{w}"' for w in (content or words)]
    return list(dict.fromkeys(terms))


class SearchIndex:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._counts: dict[str, int] = {}  # rows in the index, and rows holding each searched term
        try:
            self._db = sqlite3.connect(self.path)
            self._db.execute("PRAGMA cache_size = -65536")  # 64 MiB: a large library's doclists stay in memory
            if self._schema() not in (None, SCHEMA_VERSION):
                # an index of an older aisci: it is a cache of library.bib, rebuilt from it on first use
                self._db.executescript(_DROP + " DROP TABLE IF EXISTS meta;")
            self._db.executescript(_SCHEMA)
            self._db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
            self._db.commit()
        except sqlite3.DatabaseError as exc:
            raise LibraryError(f"{self.path}: not a usable search index ({exc}); delete it to rebuild") from exc

    def close(self) -> None:
        self._db.close()

    def _schema(self) -> str | None:
        if not self._db.execute("SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone():
            return None
        row = self._db.execute("SELECT value FROM meta WHERE name = 'schema'").fetchone()
        return row[0] if row else "1"  # the first schema did not always record itself

    # --- bookkeeping ----------------------------------------------------------------------
    def get_meta(self, name: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return row[0] if row else None

    def set_meta(self, name: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (name, value))
        self._db.commit()

    def __len__(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM refs").fetchone()[0]

    # --- writing --------------------------------------------------------------------------
    def rebuild(self, references: list[Reference], *, bib_digest: str | None) -> None:
        self._counts.clear()
        # Dropping and recreating is both faster than deleting row by row and immune to a
        # damaged FTS table (which an external-content 'delete' could not repair).
        self._db.executescript(_DROP + _SCHEMA)
        with self._db:
            self._insert(references)
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('bib_digest', ?)", (bib_digest or "",))

    def upsert(self, *, replace: list[Reference] = (), insert: list[Reference] = (), bib_digest: str | None) -> None:
        """In one transaction: replace stored references (same key) and insert new ones."""
        self._counts.clear()
        with self._db:
            self._db.executemany("DELETE FROM refs WHERE key = ?", [(r.key,) for r in replace])
            self._insert([*replace, *insert])
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('bib_digest', ?)", (bib_digest or "",))

    def _insert(self, references: list[Reference]) -> None:
        self._db.executemany(
            "INSERT INTO refs (key, entry_type, fields, source, line, title, abstract, keywords, venue, authors,"
            " year, doi, arxiv, norm_title, ids) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(r.key, r.entry_type, fields_json(r), r.source, r.line, r.title, r.abstract, r.keywords, r.venue,
              "; ".join(r.authors), r.year, r.doi, r.arxiv_id, r.norm_title,
              "," + (r.get("ids") or "").replace(" ", "") + ",") for r in references],
        )

    # --- reading --------------------------------------------------------------------------
    def search(self, query: str, limit: int = 10) -> list[tuple[Reference, float]]:
        """References best matching `query`, with a positive BM25 score (higher is better).

        BM25 costs about a microsecond for every row ranked, and a word found in much of a
        large library matches tens of thousands. So in a library of more than RANK_BUDGET
        rows, the rows ranked are those most likely to come first: the rows holding the
        query's rarest terms, then those holding a commoner term in the title or keywords
        (see _candidates). Each is scored by the BM25 of the whole query, as in a full
        search. When they are fewer than `limit` (or every term is in more than half the
        rows, where BM25 gives it no weight), the rest come from the papers added most
        recently that hold any term, ranked among themselves.
        """
        terms = fts_terms(query)
        if not terms or limit <= 0:
            return []
        if self._row_count() <= RANK_BUDGET:
            return self._ranked(" OR ".join(terms), limit)
        match = self._candidates(terms)
        found = self._ranked(match, limit) if match else []
        if len(found) < limit:
            seen = {ref.key for ref, _ in found}
            recent = self._ranked_recent(" OR ".join(terms), limit + len(found))
            found += [(ref, score) for ref, score in recent if ref.key not in seen][: limit - len(found)]
        return found

    def search_exhaustive(self, query: str, limit: int = 10) -> list[tuple[Reference, float]]:
        """What `search` returns without a budget: BM25 of every term over every row that
        matches. Slow in a large library; the benchmark and the tests compare with it."""
        terms = fts_terms(query)
        return self._ranked(" OR ".join(terms), limit) if terms and limit > 0 else []

    def _candidates(self, terms: list[str]) -> str | None:
        """The FTS5 expression matching at most about RANK_BUDGET rows worth ranking, and
        scoring them by every term: `(selectors) AND (other terms OR EVERY_ROW)`.

        The selectors are chosen rarest first while the budget lasts: a term anywhere, or a
        word in the title or keywords (`{heading}: word`, far fewer rows for a common word).
        A term chosen anywhere scores as a selector; every other term scores in the second
        part, which EVERY_ROW makes match every row. The heading and EVERY_ROW phrases lie in
        the zero-weight columns: each term adds to a score exactly once, as in a full search.
        A word in more than half the rows selects nothing: FTS5's BM25 gives it no weight.
        A "quoted phrase" is never scanned to count it (its positions make it the costliest
        term): it counts as many rows as its rarest word."""
        half = self._row_count() // 2
        weighty = [term for term in terms if " " in term or self._rows_with(term) <= half]
        options = sorted([(self._rows_at_most(term), term, term) for term in weighty]
                         + [self._heading_option(term) for term in weighty])
        anywhere, in_heading, rows = [], {}, 0
        for count, phrase, term in options:
            if count == 0 or term in anywhere or rows + count > RANK_BUDGET:
                continue
            rows += count
            if phrase == term:
                anywhere.append(term)
                in_heading.pop(term, None)  # the term anywhere covers its heading rows
            else:
                in_heading[term] = phrase
        if not anywhere and not in_heading:
            return None
        selectors = " OR ".join([*anywhere, *in_heading.values()])
        scorers = [term for term in terms if term not in anywhere]
        if not scorers:
            return selectors
        # a row found by its heading holds that term, which scores: EVERY_ROW is needed only
        # for the rows a term anywhere found
        return f"({selectors}) AND ({' OR '.join([*scorers, *([EVERY_ROW] if anywhere else [])])})"

    def _ranked(self, match: str, limit: int, after_id: int = 0) -> list[tuple[Reference, float]]:
        # Rank inside FTS5 first, then join only the top rows (twice as fast as joining every match).
        rows = self._db.execute(
            f"SELECT {', '.join('refs.' + c.strip() for c in _COLUMNS.split(','))}, top.score FROM"
            f" (SELECT rowid, {_BM25} AS score FROM refs_fts WHERE refs_fts MATCH ?"
            "  AND rowid > ? ORDER BY score LIMIT ?) AS top JOIN refs ON refs.id = top.rowid ORDER BY top.score",
            (match, after_id, int(limit)),
        ).fetchall()
        return [(_row_to_reference(row), -row[5]) for row in rows]

    def _ranked_recent(self, match: str, limit: int) -> list[tuple[Reference, float]]:
        """`_ranked` among the latest RECENT_ROWS rows, widened until `limit` are found."""
        last = self._db.execute("SELECT COALESCE(MAX(id), 0) FROM refs").fetchone()[0]
        window = RECENT_ROWS
        while True:
            found = self._ranked(match, limit, after_id=max(0, last - window))
            if len(found) >= limit or window >= last:
                return found
            window *= 4

    def _row_count(self) -> int:
        if "rows" not in self._counts:
            self._counts["rows"] = len(self)
        return self._counts["rows"]

    def _heading_option(self, term: str) -> tuple[int, str, str]:
        """(rows at most, selector, term) of the rows holding `term` in the title or keywords; for
        a phrase, the rows holding all its words there (a few more rows, but no positions to check)."""
        words = term.strip('"').split(" ")
        if len(words) == 1:
            return self._rows_with(f"{{heading}}: {term}"), f"{{heading}}: {term}", term
        rows = min(self._rows_with(f'{{heading}}: "{word}"') for word in words)
        return rows, "{heading}: (" + " AND ".join(f'"{word}"' for word in words) + ")", term

    def _rows_at_most(self, term: str) -> int:
        """`_rows_with(term)`, or for a phrase the rows of its rarest word: an upper bound."""
        words = term.strip('"').split(" ")
        return self._rows_with(term) if len(words) == 1 else min(self._rows_with(f'"{w}"') for w in words)

    def _rows_with(self, term: str) -> int:
        """How many references hold `term` (an FTS5 phrase), counted up to the budget or half the
        rows, whichever is more (past both, the term selects nothing); remembered until the next write."""
        if term not in self._counts:
            self._counts[term] = self._db.execute(
                "SELECT COUNT(*) FROM (SELECT 1 FROM refs_fts WHERE refs_fts MATCH ? LIMIT ?)",
                (term, max(RANK_BUDGET, self._row_count() // 2) + 1)).fetchone()[0]
        return self._counts[term]

    def get(self, key: str) -> Reference | None:
        row = self._db.execute(f"SELECT {_COLUMNS} FROM refs WHERE key = ?", (key,)).fetchone()
        return _row_to_reference(row) if row else None

    def get_by_alias(self, key: str) -> Reference | None:
        """The reference that absorbed `key` in a merge (listed in its biblatex `ids`)."""
        row = self._db.execute(f"SELECT {_COLUMNS} FROM refs WHERE ids LIKE ? ESCAPE '\\'",
                               (f"%,{_like_escape(key)},%",)).fetchone()
        return _row_to_reference(row) if row else None

    def candidates(self, ref: Reference) -> list[Reference]:
        """Stored references sharing ref's DOI, arXiv id or normalised title (possible duplicates)."""
        clauses, params = [], []
        for column, value in (("doi", ref.doi), ("arxiv", ref.arxiv_id), ("norm_title", ref.norm_title)):
            if value:
                clauses.append(f"{column} = ?")
                params.append(value)
        if not clauses:
            return []
        rows = self._db.execute(f"SELECT {_COLUMNS} FROM refs WHERE {' OR '.join(clauses)} ORDER BY id",
                                params).fetchall()
        return [_row_to_reference(row) for row in rows]

    def all(self) -> list[Reference]:
        rows = self._db.execute(f"SELECT {_COLUMNS} FROM refs ORDER BY id").fetchall()
        return [_row_to_reference(row) for row in rows]

    def keys(self) -> set[str]:
        return {row[0] for row in self._db.execute("SELECT key FROM refs")}


def _row_to_reference(row) -> Reference:
    return Reference(key=row[0], entry_type=row[1], fields=json.loads(row[2]), source=row[3], line=row[4])


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
