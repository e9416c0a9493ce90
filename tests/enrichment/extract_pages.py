"""Fixture pages for the extractor tests (tests/enrichment/pages/)."""

from __future__ import annotations

from pathlib import Path

from enrichment.web.extract import PageFacts, extract_page

PAGES = Path(__file__).parent / "pages"


def page_bytes(name: str) -> bytes:
    return (PAGES / f"{name}.html").read_bytes()


def extract(name: str, url: str, **kwargs) -> PageFacts:
    return extract_page(page_bytes(name), url, **kwargs)
