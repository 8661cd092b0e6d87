"""The review panel: each review's scores, the meta-review, the grounded-check findings,
and the person's final decision (`aisci.gates.final_decision`)."""

from __future__ import annotations

import ipywidgets as widgets

from aisci import gates
from aisci.widgets.base import Panel, badge, button, esc, mark
from aisci.widgets.data import findings, meta_review, reviews

SCORES = ("soundness", "presentation", "contribution", "originality", "quality", "clarity", "significance",
          "overall", "confidence")


class ReviewPanel(Panel):
    gate = "review"
    title = "Review — the reviews, the meta-review and the checks; your final decision"
    phases = ("review",)

    def decide_final(self, verdict: str) -> dict:
        before = gates.final_decision(self.study)
        return self.decide("approve", items=[verdict], before=before, after=verdict)

    def body(self) -> list[widgets.Widget]:
        found_reviews = reviews(self.study)
        if not found_reviews:
            return [widgets.HTML("No reviews yet: run the review phase (06_review.ipynb).")]
        head = "".join(f"<th>{esc(s)}</th>" for s in SCORES)
        rows = "".join("<tr>" + "".join(f"<td>{esc(r.get(s, ''))}</td>" for s in SCORES) +
                       f"<td>{esc(r.get('decision', ''))}</td><td>{esc(r.get('author', ''))}</td></tr>"
                       for r in found_reviews)
        text = f"<table><tr>{head}<th>decision</th><th>by</th></tr>{rows}</table>"
        for index, r in enumerate(found_reviews, start=1):
            text += (f"<details><summary>Review {index}: {esc(r.get('summary', '')[:120])}</summary>"
                     f"<b>Strengths</b><ul>{_items(r.get('strengths', []))}</ul>"
                     f"<b>Weaknesses</b><ul>{_items(r.get('weaknesses', []))}</ul>"
                     f"<b>Questions</b><ul>{_items(r.get('questions', []))}</ul></details>")
        meta = meta_review(self.study)
        if meta:
            kind = "ok" if meta["decision"] == "Accept" else "no"
            text += (f"<h4>Meta-review {badge(meta['decision'], kind)}{badge('overall ' + str(meta['overall']))}</h4>"
                     f"<p>{esc(meta['summary'])}</p><ul>{_items(meta.get('reasons', []))}</ul>")
        checks = findings(self.study, ("reviews",))
        counted = [f for f in checks if not f.get("skipped")]
        skipped = f" ({len(checks) - len(counted)} skipped)" if len(checks) > len(counted) else ""
        text += (f"<h4>Grounded checks: {sum(f['ok'] for f in counted)} of {len(counted)} pass{skipped}</h4><ul>" +
                 "".join(f"<li>{mark(f['ok'], f.get('skipped', False))} <code>{esc(f.get('check', ''))}</code> "
                         f"{esc(f.get('detail', ''))}</li>" for f in checks) + "</ul>")
        final = gates.final_decision(self.study)
        text += "<h4>Your final decision: " + (badge(final, "ok" if final == "accept" else "no") if final
                                                 else badge("not taken yet")) + "</h4>"
        row = widgets.HBox([button("Accept", "aisci-accept", lambda: self.decide_final("accept"), style="success"),
                            button("Reject", "aisci-reject", lambda: self.decide_final("reject"), style="danger")])
        return [widgets.HTML(text), row]


def _items(values: list) -> str:
    return "".join(f"<li>{esc(v)}</li>" for v in values) or "<li>—</li>"
