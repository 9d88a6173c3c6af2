"""The admin's pages in a real browser 320 CSS px wide (WCAG 1.4.10): no sideways scrolling, and
no violation axe-core finds of WCAG 2.1 A and AA."""

from __future__ import annotations

import asyncio
import re
import shutil
from datetime import date, timedelta
from importlib.resources import files

import pytest
import uvicorn

from shared.embedded import free_port
from tests.conftest import ADMIN
from tests.flows import eventually, invitation_links

pytestmark = pytest.mark.e2e

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# As root, without a sandbox; and nothing reaching out to the network, which is closed here.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
AXE = (files("axe_playwright_python") / "axe.min.js").read_text(encoding="utf-8")
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture
async def served(stack):  # noqa: ANN001, ANN201
    """The stack on a real port, for a browser."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(stack.app, host="127.0.0.1", port=port,
                                           lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started or task.done():
            break
        await asyncio.sleep(0.05)
    assert server.started, "the server did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


@pytest.fixture
async def narrow_page():  # noqa: ANN201
    from playwright.async_api import async_playwright

    if CHROMIUM is None:
        pytest.fail("Chromium is missing: ./dev installs the Debian package chromium")
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        # The pages' policy allows no script of ours: axe is put in past it.
        context = await browser.new_context(viewport={"width": 320, "height": 640},
                                            bypass_csp=True)
        yield await context.new_page()
        await browser.close()


async def problems(page) -> list[str]:  # noqa: ANN001
    """What a person at 320 px, or using assistive technology, would run into."""
    found = []
    widths = await page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    if widths[0] > widths[1]:
        wide = await page.evaluate("""() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth)
            .slice(0, 5).map(e => e.tagName + '.' + e.className)""")
        found.append(f"{page.url}: scrolls sideways ({widths[0]} px > {widths[1]} px): {wide}")
    # A table squeezed into 320 px breaks a name or an address into scraps of a few letters;
    # shown as cards, each cell has the width of the page.
    squeezed = await page.evaluate("""() => [...document.querySelectorAll('main td')]
        .filter(td => td.textContent.trim() && td.getBoundingClientRect().width
                      < document.documentElement.clientWidth / 2)
        .slice(0, 3).map(td => td.textContent.trim().slice(0, 40))""")
    if squeezed:
        found.append(f"{page.url}: table cells too narrow to read: {squeezed}")
    await page.add_script_tag(content=AXE)
    result = await page.evaluate("(tags) => axe.run(document, {runOnly: tags})", WCAG_21_AA)
    found += [f"{page.url}: {v['id']} ({v['help']}): {[n['target'] for n in v['nodes'][:3]]}"
              for v in result["violations"]]
    return found


async def test_the_admin_pages_reflow_at_320_px_and_pass_axe(stack, served, narrow_page):
    page, found = narrow_page, []
    await page.goto(f"{served}/login")
    await page.fill("#email", ADMIN["email"])
    await page.fill("#password", ADMIN["password"])
    await page.click("main button[type=submit]")
    await page.wait_for_url(re.compile(r".*/admin$"))
    found += await problems(page)  # the dashboard, still empty

    await page.goto(f"{served}/admin/questionnaires/new")
    found += await problems(page)
    await page.fill("#title", "x")  # too short: the form again with its errors
    await page.locator("main button[type=submit]").last.click()
    await page.wait_for_selector("[aria-invalid=true]")
    found += await problems(page)

    await page.fill("#title", "MVI-scan 2026 van de afdeling Inkoop en Aanbesteding")
    await page.fill("#respondents", "Anna de Vries <anna.de.vries.langeachternaam@voorbeeldstad"
                                    ".example>\nPiet Bos <piet@voorbeeldstad.example>")
    await page.locator("main button[type=submit]").last.click()
    await page.wait_for_url(re.compile(r".*/admin/questionnaires/[0-9a-f-]{36}\?created=1$"))
    scan = page.url.split("?")[0]
    found += await problems(page)  # the scan's page

    await page.goto(f"{scan}/statements")
    found += await problems(page)
    await page.fill("textarea >> nth=0", "Zie het inkoopbeleid op intranet.")
    await page.click("main form button[type=submit]")
    await page.wait_for_url(re.compile(r".*/statements\?saved=1$"))
    found += await problems(page)

    await page.goto(f"{served}/admin")
    found += await problems(page)  # the dashboard with a scan in its table

    # The respondent's page with the admin's note beside a statement.
    await page.goto(scan)
    await page.click("form[action$='/send'] button")
    await page.wait_for_url(re.compile(r".*\?notice="))
    found += await problems(page)
    link = (await invitation_links(stack.sink, expected=2))[0]

    async def with_note() -> bool:
        await page.goto(f"{served}{link}")
        return await page.locator(".guidance").count() == 1

    await eventually(with_note, what="the note on the respondent's page")
    found += await problems(page)
    assert not found, "\n".join(found)


async def test_every_other_admin_page_reflows_at_320_px_and_passes_axe(stack, served,
                                                                        narrow_page):
    """The list of people, a scan's participants, mail texts and links, and a scan's whole
    life, each page as the admin sees it, also with a form's errors."""
    page, found = narrow_page, []
    stack.sink.refuse = lambda address: ((550, "5.1.1 Mailbox unknown at voorbeeldstad.example")
                                         if address.startswith("kees@") else None)

    async def check(url: str | None = None) -> None:
        if url is not None:
            await page.goto(f"{served}{url}" if url.startswith("/") else url)
        found.extend(await problems(page))

    async def submit(form: str = "main form:has(button[type=submit]) >> nth=-1") -> None:
        await page.locator(form).locator("button[type=submit]").last.click()
        await page.wait_for_load_state()

    await page.goto(f"{served}/login")
    await page.fill("#email", ADMIN["email"])
    await page.fill("#password", ADMIN["password"])
    await page.locator("main button[type=submit]").last.click()
    await page.wait_for_url(re.compile(r".*/admin$"))

    # The list of people: the import form, its report with a refused row, a search.
    await check("/admin/respondents")  # still empty
    await check("/admin/respondents/import")
    await page.fill("#text", "Anna de Vries <anna.de.vries.langeachternaam@voorbeeldstad"
                             ".example>\nPiet Bos <piet@voorbeeldstad.example>\n"
                             "Kees Jansen <kees@voorbeeldstad.example>\ngeen-adres-hier")
    await submit()
    await page.wait_for_selector("table[aria-labelledby=refused]")
    await check()
    await check("/admin/respondents")
    await check("/admin/respondents?q=anna")

    # Adding one, with errors first; editing one, with errors; removing one.
    await check("/admin/respondents/new")
    await page.fill("#name", "Sanne")
    await page.fill("#email", "geen adres")
    await submit()
    await page.wait_for_selector("[aria-invalid=true]")
    await check()
    await page.fill("#email", "sanne.van.der.berg-achterhuis@voorbeeldstad.example")
    await page.fill("#tags", "inkoop, directie, facilitair en huisvesting")
    await submit()
    await page.wait_for_url(re.compile(r".*/admin/respondents(\?.*)?$"))
    await check()
    await page.click("a[href$='/edit']:has-text('Sanne')")
    await page.wait_for_url(re.compile(r".*/edit$"))
    await check()
    await page.fill("#email", "")
    await submit()
    await page.wait_for_selector("[aria-invalid=true]")
    await check()
    await page.goto(f"{served}/admin/respondents")
    await page.click("a[href$='/remove']:has-text('Sanne')")
    await page.wait_for_url(re.compile(r".*/remove$"))
    await check()

    # A scan of three from the list; one of them taken off again.
    await check("/admin/questionnaires/new")  # with the list to choose from
    await page.fill("#title", "MVI-scan 2026 van de afdeling Inkoop en Aanbesteding")
    await page.fill("#respondents", "Anna de Vries <anna.de.vries.langeachternaam@voorbeeldstad"
                                    ".example>\nPiet Bos <piet@voorbeeldstad.example>\n"
                                    "Kees Jansen <kees@voorbeeldstad.example>")
    await page.locator("main button[type=submit]").last.click()
    await page.wait_for_url(re.compile(r".*/admin/questionnaires/[0-9a-f-]{36}\?created=1$"))
    scan = page.url.split("?")[0].removeprefix(served)
    await check(f"{scan}/participants")
    await page.click("a[href$='/remove'] >> nth=0")
    await page.wait_for_url(re.compile(r".*/participants/[0-9a-f-]{36}/remove$"))
    await check()

    # Its mail: a text, also with an error, the preview, the reminder settings.
    await check(f"{scan}/mail/invitation/nl")
    await page.fill("#subject", "")
    await submit()
    await page.wait_for_selector("[aria-invalid=true]")
    await check()
    await check(f"{scan}/mail/reminder/en")
    await check(f"{scan}/mail-preview?kind=invitation")
    await check(f"{scan}/reminders")
    await page.fill("#gap_days", "elke week")
    await submit()
    await page.wait_for_selector("[aria-invalid=true]")
    await check()

    # Sent: each person's state, one mail refused; a new link for one, and the link itself.
    await page.goto(f"{served}{scan}")
    await page.click("form[action$='/send'] button")
    await page.wait_for_url(re.compile(r".*\?notice="))
    await invitation_links(stack.sink, expected=2)

    async def failed_shown() -> bool:
        await page.goto(f"{served}{scan}")
        return await page.locator(".status-mail_failed").count() == 1

    await eventually(failed_shown, what="the refused mail on the scan's page")
    await check()
    await page.click("a[href$='/new-link'] >> nth=0")
    await page.wait_for_url(re.compile(r".*/new-link$"))
    await check()
    await page.click("form[action$='/new-link'] button[type=submit]")
    await page.wait_for_selector("#new-link")
    await check()

    # Its life: the edit form, also with errors; closed, then reopened.
    await check(f"{scan}/edit")
    await page.fill("#title", "x")
    await submit()
    await page.wait_for_selector("[aria-invalid=true]")
    await check()
    await check(f"{scan}/close")
    await page.click("form[action$='/close'] button[type=submit]")
    await page.wait_for_url(re.compile(r".*\?notice="))
    await check()  # closed
    await page.goto(f"{served}{scan}/edit")
    await page.fill("#deadline", (date.today() + timedelta(days=40)).isoformat())
    await submit()
    await page.wait_for_url(re.compile(r".*\?notice=lifecycle_reopened"))
    await check()

    # A second scan, closed, a third, not sent, a fourth, deleted: the dashboard and the
    # deleted scans.
    for title in ("Tweede scan, gesloten", "Derde scan, nog niet verstuurd",
                  "Vierde scan, weggegooid"):
        await page.goto(f"{served}/admin/questionnaires/new")
        await page.fill("#title", title)
        await page.fill("#respondents", "Piet Bos <piet@voorbeeldstad.example>")
        await page.locator("main button[type=submit]").last.click()
        await page.wait_for_url(re.compile(r".*\?created=1$"))
        if title.startswith("Tweede"):
            await page.goto(page.url.replace("?created=1", "/close"))
            await page.click("form[action$='/close'] button[type=submit]")
            await page.wait_for_url(re.compile(r".*\?notice="))
    fourth = page.url.split("?")[0].removeprefix(served)
    await check(f"{fourth}/delete")
    await page.click("form[action$='/delete'] button[type=submit]")
    await page.wait_for_url(re.compile(r".*/admin/deleted-questionnaires\?notice=deleted$"))
    await check()
    await check("/admin")
    await check("/admin/sessions")
    await check("/mailbox")  # the mail sent, as the demo shows it
    await page.click("main h2 a >> nth=0")
    await page.wait_for_url(re.compile(r".*/mailbox/.+"))
    await check()
    assert not found, "\n".join(found)
