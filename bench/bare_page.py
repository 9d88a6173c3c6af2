"""The bare page the respondent's page is measured against: what an engineer would write by hand.

A minimal FastAPI + Jinja2 app that imports nothing of the product. ``GET /r/{token}`` renders a
page like the respondent's (84 statements in 19 themes, five choices and a comment each, similar
HTML size) from one SELECT; ``POST /r/{token}`` writes the answers in one transaction and renders
the page again. Served by uvicorn with one worker and the same settings as the product.

    python bench/bare_page.py setup DATABASE_URL --tokens 200
    python bench/bare_page.py serve DATABASE_URL --port 8100
"""

from __future__ import annotations

import argparse
import sys
from contextlib import asynccontextmanager

import psycopg
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, select_autoescape
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

THEMES = 19
STATEMENT_IDS = [f"T{n % THEMES + 1:02d}-{n:02d}" for n in range(84)]
CHOICES = (("niet", "Niet"), ("deels", "Deels"), ("volledig", "Volledig"),
           ("nvt", "Niet van toepassing"), ("weet_niet", "Weet ik niet"))
# About as long as the product's statements and their help texts.
STATEMENT_TEXT = ("Onze organisatie heeft vastgelegd welke principes we volgen bij duurzaam "
                  "inkopen, zoals transparantie, integriteit en eerlijke kansen ({}).")
HELP_TEXT = ("Zoek een vastgesteld document waarin deze principes staan, zoals het inkoopbeleid "
             "of een gedragscode voor inkopers. Mondelinge afspraken tellen niet mee ({}).")

PAGE = Environment(autoescape=select_autoescape(default=True), trim_blocks=True,
                   lstrip_blocks=True).from_string("""<!doctype html>
<html lang="nl">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }} · ISO 20400 Scan</title><link rel="stylesheet" href="/static/style.css"></head>
<body>
<a class="skip-link" href="#main">Naar de inhoud</a>
<header class="site-header"><p class="brand"><a href="#main">ISO 20400 Scan</a></p>
<nav aria-label="Hoofdmenu"><ul><li><a href="?lang=en" hreflang="en" lang="en">English</a></li></ul></nav>
</header>
<main id="main" tabindex="-1">
<h1>{{ title }}</h1>
<p>Welkom {{ name }}. Beantwoord de stellingen voor {{ organisation }}.</p>
<p>U kunt antwoorden tot en met {{ deadline.strftime('%d-%m-%Y') }}.</p>
{% if notice %}<div class="notice" role="status"><p>{{ notice }}</p></div>{% endif %}
<form method="post" action="" novalidate>
{% for theme, statements in themes %}
  <section aria-labelledby="theme-{{ theme }}">
    <h2 id="theme-{{ theme }}">{{ theme }} · Thema {{ theme }}</h2>
    {% for s in statements %}
    <fieldset class="statement" id="s-{{ s.id }}" aria-describedby="help-{{ s.id }}">
      <legend>{{ s.text }}</legend>
      <p class="hint" id="help-{{ s.id }}">{{ s.help }}</p>
      <div class="choices">
      {% for value, label in choices %}
        <label><input type="radio" name="answer-{{ s.id }}" value="{{ value }}"{% if s.answer == value %} checked{% endif %}> {{ label }}</label>
      {% endfor %}
      </div>
      <label for="comment-{{ s.id }}" class="hint">Toelichting (niet verplicht)</label>
      <textarea id="comment-{{ s.id }}" name="comment-{{ s.id }}" rows="2" maxlength="2000" aria-describedby="max-{{ s.id }}">{{ s.comment or '' }}</textarea>
      <p class="hint" id="max-{{ s.id }}">Hoogstens 2000 tekens.</p>
    </fieldset>
    {% endfor %}
  </section>
{% endfor %}
  <div class="actions">
    <button type="submit" name="action" value="save" class="secondary">Opslaan</button>
    <button type="submit" name="action" value="submit">Versturen</button>
  </div>
</form>
</main>
<footer class="site-footer"><p>ISO 20400 Scan, een zelfscan voor duurzaam inkopen.</p></footer>
</body>
</html>
""")

PAGE_QUERY = text("""
SELECT r.name, r.organisation, r.title, r.deadline, s.id, s.theme, s.text, s.help,
       a.answer, a.comment
FROM bare.respondents r
CROSS JOIN bare.statements s
LEFT JOIN bare.answers a ON a.token = r.token AND a.statement_id = s.id
WHERE r.token = :token
ORDER BY s.position
""")


def setup(database_url: str, *, tokens: list[str]) -> None:
    """The bare page's own schema, its statements and one respondent per token."""
    with psycopg.connect(database_url) as conn:
        conn.execute("DROP SCHEMA IF EXISTS bare CASCADE")
        conn.execute("CREATE SCHEMA bare")
        conn.execute("CREATE TABLE bare.statements (id text PRIMARY KEY, position int NOT NULL,"
                     " theme text NOT NULL, text text NOT NULL, help text NOT NULL)")
        conn.execute("CREATE TABLE bare.respondents (token text PRIMARY KEY, name text NOT NULL,"
                     " organisation text NOT NULL, title text NOT NULL,"
                     " deadline timestamptz NOT NULL)")
        conn.execute("CREATE TABLE bare.answers (token text REFERENCES bare.respondents,"
                     " statement_id text REFERENCES bare.statements, answer text, comment text,"
                     " PRIMARY KEY (token, statement_id))")
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO bare.statements VALUES (%s, %s, %s, %s, %s)", [
                (sid, n, sid[:3], STATEMENT_TEXT.format(sid), HELP_TEXT.format(sid))
                for n, sid in enumerate(sorted(STATEMENT_IDS))])
            cur.executemany(
                "INSERT INTO bare.respondents VALUES (%s, %s, 'Gemeente Voorbeeldstad',"
                " 'MVI-scan 2026', now() + interval '10 days')",
                [(token, f"Respondent {n}") for n, token in enumerate(tokens)])


def build_app(database_url: str) -> FastAPI:
    engine = create_async_engine(database_url.replace("postgresql://", "postgresql+psycopg://"),
                                 pool_size=10)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        await engine.dispose()

    app = FastAPI(lifespan=lifespan)

    def page(rows: list, *, notice: str | None = None) -> HTMLResponse:
        themes: dict[str, list] = {}
        for row in rows:
            themes.setdefault(row.theme, []).append(row)
        first = rows[0]
        return HTMLResponse(PAGE.render(
            title=first.title, name=first.name, organisation=first.organisation,
            deadline=first.deadline, themes=themes.items(), choices=CHOICES, notice=notice))

    @app.get("/r/{token}")
    async def show(token: str) -> HTMLResponse:
        async with engine.connect() as conn:
            rows = (await conn.execute(PAGE_QUERY, {"token": token})).all()
        if not rows:
            return HTMLResponse("Onbekende link", status_code=404)
        return page(rows)

    @app.post("/r/{token}")
    async def save(request: Request, token: str) -> HTMLResponse:
        form = await request.form()
        answers = [{"token": token, "statement_id": sid, "answer": form.get(f"answer-{sid}"),
                    "comment": form.get(f"comment-{sid}") or None}
                   for sid in STATEMENT_IDS
                   if form.get(f"answer-{sid}") or form.get(f"comment-{sid}")]
        async with engine.begin() as conn:
            found = (await conn.execute(text(
                "SELECT 1 FROM bare.respondents WHERE token = :token FOR UPDATE"),
                {"token": token})).first()
            if found is None:
                return HTMLResponse("Onbekende link", status_code=404)
            await conn.execute(text("DELETE FROM bare.answers WHERE token = :token"),
                               {"token": token})
            if answers:
                await conn.execute(text(
                    "INSERT INTO bare.answers VALUES (:token, :statement_id, :answer, :comment)"),
                    answers)
            rows = (await conn.execute(PAGE_QUERY, {"token": token})).all()
        return page(rows, notice="Uw antwoorden zijn opgeslagen.")

    return app


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("setup", "serve"))
    parser.add_argument("database_url")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--tokens", nargs="*", default=[], help="setup: the respondents' links")
    args = parser.parse_args()
    if args.command == "setup":
        setup(args.database_url, tokens=args.tokens)
        return 0
    uvicorn.run(build_app(args.database_url), host="127.0.0.1", port=args.port,
                log_level="warning", access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
