"""Importing real-world .bib files: bad entries reported by line and skipped, good ones
kept, odd encodings read, duplicates merged; and writing them back with bibtexparser."""

from __future__ import annotations

import pytest

from aisci.literature.bibfile import decode_bib_bytes, format_bibtex, parse_bib, read_bib
from aisci.literature.errors import BibImportError

MALFORMED = """% exported by a reference manager, then edited by hand
@article{hochreiter1997,
  title = {Long Short-Term Memory},
  author = {Hochreiter, Sepp and Schmidhuber, J{\\"u}rgen},
  journal = {Neural Computation},
  year = 1997,
  doi = {10.1162/neco.1997.9.8.1735}
}

@article{unbalanced2019,
  title = {A title whose {brace never closes,
  year = {2019}
}

@inproceedings{vaswani2017,
  title = {Attention Is All You Need},
  author = {Vaswani, Ashish and Shazeer, Noam},
  booktitle = {NeurIPS},
  year = {2017},
  eprint = {1706.03762},
  archivePrefix = {arXiv}
}

@article{,
  title = {An entry without a key},
  year = {2000}
}

@article{hochreiter1997,
  title = {Something else entirely under the same key},
  author = {Someone, Else},
  year = {2001}
}

@misc{notitle2020,
  author = {Nobody, A.},
  year = {2020}
}

@book{twice,
  title = {First Title},
  title = {Second Title},
  year = {1999}
}

@misc{broken header = oops}

@article{he2016,
  title = {Deep Residual Learning for Image Recognition},
  author = {He, Kaiming and Zhang, Xiangyu},
  year = {2016}
}
"""


def test_malformed_file_bad_entries_reported_with_lines_good_ones_kept():
    parsed = parse_bib(MALFORMED, origin="refs.bib")
    report = parsed.report
    kept = {ref.key for ref in parsed.references}
    assert kept == {"hochreiter1997", "vaswani2017", "twice", "he2016"}
    skipped = {s.line: s for s in report.skipped}
    assert "not closed" in skipped[10].reason and skipped[10].key == "unbalanced2019"
    assert "no citation key" in skipped[24].reason
    assert "duplicate key 'hochreiter1997' (first on line 2)" in skipped[29].reason
    assert "no title" in skipped[35].reason
    assert 46 in skipped  # the header with no comma after the key
    assert len(report.skipped) == 5
    assert any("line 40" in w and "title" in w for w in report.warnings)  # duplicate field: first value kept
    twice = next(r for r in parsed.references if r.key == "twice")
    assert twice.title == "First Title"
    assert report.kept == [r.key for r in parsed.references]


def test_entries_after_an_unclosed_entry_at_the_end_are_reported_not_lost():
    text = "@article{ok, title={Fine paper here}, year=2020}\n@article{open, title={never closed, year=2021\n"
    parsed = parse_bib(text)
    assert [r.key for r in parsed.references] == ["ok"]
    assert parsed.report.skipped[0].line == 2
    assert "end of the file" in parsed.report.skipped[0].reason


def test_latex_accents_are_decoded_for_search_but_kept_in_the_bibtex():
    parsed = parse_bib(MALFORMED)
    ref = next(r for r in parsed.references if r.key == "hochreiter1997")
    assert ref.authors == ["Sepp Hochreiter", "Jürgen Schmidhuber"]
    assert ref.surnames == ["hochreiter", "schmidhuber"]
    assert '{\\"u}' in ref.to_bibtex()


def test_latin1_bytes_in_one_entry_do_not_garble_the_rest(tmp_path):
    data = ("@article{m\u00fcller2001,\n  title = {\u00dcber neuronale Netze und Lernen},\n"
            "  author = {M\u00fcller, Hans},\n  year = {2001}\n}\n").encode("latin-1")
    data += "@article{okay2002,\n  title = {A UTF-8 title \u2014 with a dash},\n  year = {2002}\n}\n".encode("utf-8")
    path = tmp_path / "mixed.bib"
    path.write_bytes(data)
    parsed = read_bib(path)
    titles = {r.key: r.title for r in parsed.references}
    assert titles == {"m\u00fcller2001": "\u00dcber neuronale Netze und Lernen",
                      "okay2002": "A UTF-8 title \u2014 with a dash"}
    assert parsed.report.warnings and "line(s) 1, 2, 3" in parsed.report.warnings[0]


@pytest.mark.parametrize("prefix, encoding", [(b"\xef\xbb\xbf", "utf-8"), (b"", "utf-16")])
def test_bom_and_utf16_files_are_read(prefix, encoding):
    text = "@misc{k, title={Caf\u00e9 networks for everyone}, year=2020}\n"
    decoded, _ = decode_bib_bytes(prefix + text.encode(encoding))
    assert parse_bib(decoded).references[0].title == "Caf\u00e9 networks for everyone"


def test_missing_file_is_a_one_line_error(tmp_path):
    with pytest.raises(BibImportError, match="no such file"):
        read_bib(tmp_path / "absent.bib")


def test_duplicates_merged_by_doi_arxiv_and_title_keeping_the_richer_entry():
    text = """
@misc{lstm-short, title={LSTM paper}, doi={https://doi.org/10.1162/NECO.1997.9.8.1735}}
@article{hochreiter1997long, title={Long Short-Term Memory}, author={Hochreiter, Sepp and Schmidhuber, Jurgen},
  journal={Neural Computation}, year={1997}, doi={10.1162/neco.1997.9.8.1735}, pages={1735--1780}}
@misc{vaswani-preprint, title={Attention is all you need}, author={Vaswani, Ashish}, year={2017},
  journal={arXiv preprint arXiv:1706.03762v5}}
@inproceedings{vaswani2017attention, title={Attention Is All You Need}, author={Vaswani, Ashish and others},
  booktitle={NeurIPS}, year={2017}, eprint={1706.03762}, archivePrefix={arXiv}, abstract={Transduction models.}}
@article{he2016deep, title={Deep Residual Learning for Image Recognition}, author={He, Kaiming}, year={2016},
  booktitle={CVPR}, pages={770--778}}
@misc{he-copy, title={Deep residual learning for image recognition.}, author={He, K.}}
@article{smith2020intro, title={Deep Residual Learning for Image Recognition}, author={Smith, Jane}, year={2020}}
"""
    parsed = parse_bib(text)
    by_key = {r.key: r for r in parsed.references}
    assert set(by_key) == {"hochreiter1997long", "vaswani2017attention", "he2016deep", "smith2020intro"}
    reasons = {m.dropped: (m.kept, m.reason) for m in parsed.report.merged}
    assert reasons["lstm-short"] == ("hochreiter1997long", "same DOI 10.1162/neco.1997.9.8.1735")
    assert reasons["vaswani-preprint"] == ("vaswani2017attention", "same arXiv id 1706.03762")
    assert reasons["he-copy"] == ("he2016deep", "same title")
    assert "smith2020intro" not in reasons  # same title, different first author: a different work
    # the richer entry survives, gaps filled from the other, the dropped key kept as an alias
    assert by_key["vaswani2017attention"].get("abstract") == "Transduction models."
    assert by_key["hochreiter1997long"].get("ids") == "lstm-short"


def test_same_key_same_work_is_merged_not_skipped():
    text = """@article{k1, title={Neural Ordinary Differential Equations}, author={Chen, Ricky}, year={2018}}
@article{k1, title={Neural ordinary differential equations}, author={Chen, Ricky}, eprint={1806.07366}}"""
    parsed = parse_bib(text)
    assert [r.key for r in parsed.references] == ["k1"]
    assert parsed.references[0].arxiv_id == "1806.07366"
    assert parsed.report.merged[0].reason == "same title" and not parsed.report.skipped


def test_writing_round_trips_through_bibtexparser():
    parsed = parse_bib(MALFORMED)
    text = format_bibtex(parsed.references)
    again = parse_bib(text)
    assert not again.report.skipped
    assert [r.to_dict()["fields"] for r in again.references] == [r.fields for r in parsed.references]


def test_month_macros_are_written_unbraced():
    parsed = parse_bib("@article{m, title={Monthly thing here}, month=jun, year=2000}")
    assert "month = jun" in format_bibtex(parsed.references)


def test_one_file_with_every_fault_at_once(tmp_path):
    """Unbalanced braces, a missing key, a duplicate key, a duplicate field and Latin-1 bytes."""
    latin1 = "@article{garcia2003,\n  title = {Redes neuronales para el a\u00f1o 2003},\n  author = {Garc\u00eda, Jos\u00e9},\n" \
             "  year = {2003}\n}\n"
    path = tmp_path / "everything.bib"
    path.write_bytes(MALFORMED.encode("utf-8") + latin1.encode("latin-1"))
    parsed = read_bib(path)
    assert {r.key for r in parsed.references} == {"hochreiter1997", "vaswani2017", "twice", "he2016", "garcia2003"}
    garcia = next(r for r in parsed.references if r.key == "garcia2003")
    assert garcia.title == "Redes neuronales para el a\u00f1o 2003" and garcia.authors == ["Jos\u00e9 Garc\u00eda"]
    assert [s.line for s in parsed.report.skipped] == [10, 24, 29, 35, 46]
    assert "read those as Windows-1252/Latin-1" in parsed.report.warnings[0]
    assert parsed.report.summary() == f"{path}: 5 kept, 0 merged, 5 skipped"
