"""The live studio keeps its data on the tests' database server: on the PostgreSQL leg of
`.ci/run` the end-to-end tests run the studio on PostgreSQL too (tests/e2e/conftest.py)."""

from __future__ import annotations

import sqlite3
from urllib.parse import urlsplit

import dj_database_url
import pytest
from django.conf import settings

pytestmark = pytest.mark.xdist_group("e2e")


def tenant_slugs(database_url: str) -> set[str]:
    if urlsplit(database_url).scheme == "sqlite":
        with sqlite3.connect(dj_database_url.parse(database_url)["NAME"]) as conn:
            return {slug for (slug,) in conn.execute("SELECT slug FROM blueprints_tenant")}
    import psycopg

    with psycopg.connect(urlsplit(database_url)._replace(scheme="postgresql").geturl()) as conn:
        return {slug for (slug,) in conn.execute("SELECT slug FROM blueprints_tenant")}


def test_the_live_studio_runs_on_the_database_server_the_tests_run_on(live_studio):
    assert dj_database_url.parse(live_studio.database_url)["ENGINE"] == settings.DATABASES["default"]["ENGINE"]
    assert "demo" in tenant_slugs(live_studio.database_url)  # what its bootstrap seeded is there
