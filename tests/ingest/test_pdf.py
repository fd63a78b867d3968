"""PDF articles: the text of each page, title and date from the document; scans are skipped."""

from __future__ import annotations

import warnings
from pathlib import Path

from qa.ingest.corpus import CorpusWarning, load_corpus


def pdf_with_text(lines: list[str], title: str = "", created: str = "") -> bytes:
    """A one-page PDF written by hand (Helvetica text lines), with an optional /Info dictionary."""
    stream = "BT /F1 12 Tf 72 720 Td 14 TL " + " ".join(f"({line}) '" for line in lines) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    info = ""
    if title or created:
        objects.append(f"<< /Title ({title}) /CreationDate (D:{created}000000) >>")
        info = f" /Info {len(objects)} 0 R"
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R{info} >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def test_a_pdf_is_an_article_with_its_documents_title_and_date(tmp_path: Path) -> None:
    (tmp_path / "ferry.pdf").write_bytes(
        pdf_with_text(["The free ferry carried 9,000 passengers.", "It runs every fifteen minutes."],
                      title="Free ferry busy", created="20260311")
    )
    (tmp_path / "scan.pdf").write_bytes(pdf_with_text([]))
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4\nnot really a pdf")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        articles = load_corpus(tmp_path)
    said = [str(w.message) for w in caught if issubclass(w.category, CorpusWarning)]
    assert [a.doc_id for a in articles] == ["ferry"]
    article = articles[0]
    assert "9,000 passengers" in article.text and article.title == "Free ferry busy"
    assert article.published == "2026-03-11"
    assert any("scan.pdf" in m and "no text" in m and "OCR" in m for m in said)
    assert any("broken.pdf" in m and "not a readable PDF" in m for m in said)
