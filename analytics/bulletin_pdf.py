"""The bulletin as a PDF, the file provinces forward (Zalo, e-mail): its HTML laid out on A4 by
WeasyPrint (Pango lays out the Vietnamese text; the Debian packages it needs are installed by
scripts/setup.sh)."""

from __future__ import annotations

from functools import lru_cache

#: A4 pages; the page's own style is kept, its screen-only parts (the link to this PDF) left out
_PRINT = (
    "@page { size: A4; margin: 14mm } a.pdf { display: none !important } "
    "table { display: table !important; width: 100% !important; font-size: 10pt }"
)


@lru_cache(maxsize=32)
def pdf_of(html: str) -> bytes:
    """The PDF of a bulletin's HTML (the same text, so the same file: kept for a while)."""
    from weasyprint import CSS, HTML  # noqa: PLC0415 - a large import, only when asked

    document = HTML(string=html)
    pdf: bytes = document.write_pdf(stylesheets=[CSS(string=_PRINT)])
    return pdf
