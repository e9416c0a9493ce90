"""In a real browser: upload a CSV, check the mapping and preview, start the import, watch
the progress fragment reach the result with its counts, download the rows not imported.

Headless Chromium (Debian's `chromium`) driven by Playwright against live_server. The
django-q2 task runs synchronously under pytest (Q_SYNC), on commit of the start request.
"""

from __future__ import annotations

from pathlib import Path

import pytest

CSV = (
    "First Name,Last Name,Email,Company,Job Title\r\n"
    "Zoë,Müller,zoe@baeckerei-mueller.de,Bäckerei Müller,Owner\r\n"
    "José,Núñez,jose@nunez-hijos.es,Núñez & Hijos,CEO\r\n"
    "Broken,Row,not-an-email,Nowhere,\r\n"
)


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_upload_map_and_import_a_csv(live_server, browser_page, tmp_path):
    from playwright.sync_api import expect

    from leads.models import ImportJob, Lead
    from tests import factories

    owner = factories.make_user("rep@example.com", name="Rita Rep")
    org = factories.make_org("Import Co", owner=owner)
    page = browser_page
    base = live_server.url

    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill("rep@example.com")
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base}/o/{org.slug}/")

    # The sidebar leads to the import page.
    page.locator("nav.nav").get_by_role("link", name="Import").click()
    expect(page).to_have_title(f"Import leads · {org.name} · Prospector")

    path = tmp_path / "leads.csv"
    path.write_bytes(CSV.encode("cp1252"))  # Excel's "CSV" on Western Windows
    page.get_by_label("CSV file").set_input_files(str(path))
    page.get_by_role("button", name="Upload and map columns").click()

    expect(page.get_by_role("heading", name="Match the columns")).to_be_visible()
    expect(page.get_by_text("Windows-1252")).to_be_visible()
    preview = page.locator("#import-preview")
    expect(preview).to_contain_text("zoe@baeckerei-mueller.de")
    expect(preview).to_contain_text("is not valid")

    # Leave the title out: the preview is redrawn for the new mapping.
    page.get_by_label("Job Title").select_option("")
    page.get_by_label("Tag every imported lead").fill("Fair 2026")
    page.get_by_role("button", name="Start import").click()

    status = page.locator("#import-status")
    expect(status).to_contain_text("Completed", timeout=15_000)
    expect(status.locator('[data-count="created"]')).to_have_text("2")
    expect(status.locator('[data-count="failed"]')).to_have_text("1")
    expect(page.locator(".toast")).to_contain_text("started")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the 1 row not imported").click()
    text = Path(download_info.value.path()).read_text(encoding="utf-8-sig")
    assert text.splitlines()[1].startswith("4,failed,")

    zoe = Lead.objects.get(organization=org, email="zoe@baeckerei-mueller.de")
    assert (zoe.first_name, zoe.last_name, zoe.title) == ("Zoë", "Müller", "")
    assert list(zoe.tags.values_list("name", flat=True)) == ["Fair 2026"]
    assert ImportJob.objects.get(organization=org).created_count == 2

    # The list of past imports shows it.
    page.goto(f"{base}/o/{org.slug}/leads/imports/")
    expect(page.locator("#imports")).to_contain_text("leads.csv")
    assert not page.problems, page.problems
