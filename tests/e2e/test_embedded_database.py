"""The embedded PostgreSQL's address is known before it starts, and a new data folder uses the
database initdb made, while a folder from before keeps (or gets) its own."""

from __future__ import annotations

import json

import psycopg

from shared.embedded import PG_DATABASE, EmbeddedPostgres


def databases(server: EmbeddedPostgres) -> set[str]:
    with psycopg.connect(server.url) as conn:
        return {name for (name,) in conn.execute("SELECT datname FROM pg_database")}


def test_a_new_folder_logs_in_with_the_address_chosen_before_the_start(open_tmp):
    folder = open_tmp / "postgres"
    chosen = EmbeddedPostgres(folder).choose_address()
    port, password = chosen.port, chosen.password
    server = chosen.start()
    try:
        assert (server.port, server.password, server.database) == (port, password, "postgres")
        assert PG_DATABASE not in databases(server)  # nothing was copied from a template
    finally:
        server.stop()
    again = EmbeddedPostgres(folder).choose_address()
    assert (again.password, again.database) == (password, "postgres")


def test_a_folder_from_before_gets_its_database_created_and_keeps_it(open_tmp):
    folder = open_tmp / "postgres"
    EmbeddedPostgres(folder).start().stop()
    credentials = folder / "credentials.json"
    # As written before initdb's database was the product's: the password only.
    credentials.write_text(json.dumps({"password": json.loads(credentials.read_text())
                                       ["password"]}))
    server = EmbeddedPostgres(folder).start()
    try:
        assert server.database == PG_DATABASE
        assert PG_DATABASE in databases(server)
        with psycopg.connect(server.url) as conn:
            conn.execute("CREATE TABLE kept (n int)")
            conn.commit()
    finally:
        server.stop()
    again = EmbeddedPostgres(folder).start()
    try:
        with psycopg.connect(again.url) as conn:
            assert conn.execute("SELECT count(*) FROM kept").fetchone() == (0,)
    finally:
        again.stop()
