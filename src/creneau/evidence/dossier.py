# SPDX-License-Identifier: AGPL-3.0-or-later
"""The evidence dossier as a PDF (WeasyPrint), and the check of an exported dossier or chain.

`build_pdf(data, lang)` lays out what `dossier_data.gather` collected: cover, calendar and per-day table,
table of attempts, daily captures, method, final hash and how to verify. The period's chain export is
attached to the PDF as `chain.jsonl`. Images come from the store through a fetcher that knows only
`creneau-capture:<id>` URLs: building a dossier never touches the network.

`verify_file(path)` accepts that PDF (it checks the attachment, and that the final hash printed on the
cover is the chain's) or a bare `chain.jsonl`.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from creneau.evidence import chain
from creneau.evidence.dossier_data import DossierData
from creneau.evidence.texts import LANGS, OUTCOMES, WORDS, day_text, month_title, when_text
from creneau.types import PARIS

TEMPLATES = Path(__file__).resolve().parent / "templates"
ATTACHMENT = "chain.jsonl"
CAPTURE_SCHEME = "creneau-capture:"


def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(data: DossierData, lang: str) -> str:
    """The dossier's HTML in `lang` (fr or en)."""
    if lang not in LANGS:
        raise ValueError(f"unsupported language {lang!r} (fr or en)")
    targets = {r.target for r in data.rows or ()}
    return (
        _environment()
        .get_template("dossier.html.j2")
        .render(
            d=data,
            w=WORDS[lang],
            lang=lang,
            css=(TEMPLATES / "dossier.css").read_text(),
            multi=len(targets) > 1,
            day=lambda value: day_text(value, lang),
            when=lambda value: when_text(value, lang),
            utc=lambda value: f"{value:%H:%M:%S}",
            clock=lambda value: f"{value.astimezone(PARIS):%H:%M}" if value else "–",
            outcome=lambda value: OUTCOMES[lang].get(value, value),
            month_title=lambda year, month: month_title(year, month, lang),
        )
    )


def _fetcher(images: Mapping[int, bytes]) -> Any:
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class CaptureFetcher(URLFetcher):  # type: ignore[misc]
        """Serves the captures' PNGs and refuses every other URL (no network while building)."""

        def fetch(self, url: str, headers: Any = None) -> Any:
            if url.startswith(CAPTURE_SCHEME):
                png = images.get(int(url.removeprefix(CAPTURE_SCHEME)))
                if png is not None:
                    kind = "image/jpeg" if png[:2] == b"\xff\xd8" else "image/png"
                    return URLFetcherResponse(url, body=png, headers={"Content-Type": kind})
            raise ValueError(f"not fetched while building a dossier: {url}")

    return CaptureFetcher()


def build_pdf(data: DossierData, lang: str, images: Mapping[int, bytes]) -> bytes:
    """The dossier PDF, with the chain export attached as `chain.jsonl`."""
    from weasyprint import HTML, Attachment

    html = render_html(data, lang)
    attachment = Attachment(
        file_obj=io.BytesIO(data.chain_bytes),
        name=ATTACHMENT,
        description="creneau-evidence-chain v1",
        created=data.generated_at,
        modified=data.generated_at,
        relationship="Data",
    )
    document = HTML(string=html, url_fetcher=_fetcher(images), base_url="creneau-capture:0")
    pdf: bytes = document.write_pdf(attachments=[attachment], pdf_identifier=data.chain_id.encode()[:32])
    return pdf


async def load_images(data: DossierData, preview: Callable[[int], Any]) -> dict[int, bytes]:
    """The rendered captures' JPEG copies (`preview` is `EvidenceRepo.capture_preview`)."""
    images: dict[int, bytes] = {}
    for capture in data.captures:
        if capture.status == "rendered":
            blob = await preview(capture.id)
            if blob:
                images[capture.id] = blob
    return images


@dataclass(frozen=True, slots=True)
class FileVerdict:
    """The chain's verdict, plus (for a PDF) whether the printed final hash matches the chain."""

    verdict: chain.Verdict
    kind: str
    printed_hash_ok: bool | None = None

    @property
    def ok(self) -> bool:
        return self.verdict.ok and self.printed_hash_ok is not False

    def lines(self) -> list[str]:
        v = self.verdict
        out = [
            f"file: {self.kind}",
            f"chain: {v.chain}",
            f"entries: {v.count} (numbers {v.head.get('from_seq')}–{v.head.get('to_seq')})",
            f"final hash: {v.final_hash}",
            f"seal: {v.seal}",
        ]
        if self.printed_hash_ok is not None:
            out.append(f"final hash printed in the PDF: {'matches' if self.printed_hash_ok else 'DIFFERS'}")
        out.extend(f"problem: {p}" for p in v.problems)
        out.append("result: OK, nothing was changed, removed or reordered" if self.ok else "result: TAMPERED")
        return out


def _pdf_parts(data: bytes) -> tuple[bytes, str]:
    """(the attached chain, the cover's text) of a dossier PDF; raises ValueError when absent."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        attached = reader.attachments.get(ATTACHMENT)
        cover = reader.pages[0].extract_text() if reader.pages else ""
    except PyPdfError as exc:
        raise ValueError(f"unreadable PDF: {exc}") from None
    if not attached:
        raise ValueError(f"this PDF has no {ATTACHMENT} attachment: not a creneau dossier")
    return attached[0], cover


def verify_bytes(data: bytes, *, check_seal: Any = None) -> FileVerdict:
    """Check a dossier PDF or a chain export; raises ValueError when it is neither."""
    if data.startswith(b"%PDF"):
        attached, cover = _pdf_parts(data)
        verdict = chain.verify(attached, check_seal=check_seal)
        printed = re.sub(r"\s+", "", cover)
        claimed = str(verdict.head.get("final_hash", ""))
        return FileVerdict(
            verdict, "PDF dossier", bool(claimed) and claimed in printed and verdict.final_hash == claimed
        )
    return FileVerdict(chain.verify(data, check_seal=check_seal), "chain export (JSON Lines)")
