"""The admin's pages in a real browser 320 CSS px wide (WCAG 1.4.10): no sideways scrolling, and
no violation axe-core finds of WCAG 2.1 A and AA."""

from __future__ import annotations

import asyncio
import re
import shutil
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
    await page.click("main button[type=submit]")
    await page.wait_for_selector("[aria-invalid=true]")
    found += await problems(page)

    await page.fill("#title", "MVI-scan 2026 van de afdeling Inkoop en Aanbesteding")
    await page.fill("#respondents", "Anna de Vries <anna.de.vries.langeachternaam@voorbeeldstad"
                                    ".example>\nPiet Bos <piet@voorbeeldstad.example>")
    await page.click("main button[type=submit]")
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
