"""The PostgreSQL leg's selection (``make test-postgres``, the second half of ``.ci/run``).

``--database-tests`` keeps the tests that reach the test database and deselects the others, which
never touch a database and so would only run a second time (the rules engine, the compiler, the
edge agent, the command line). A test reaches the database when it has pytest-django's
``django_db`` mark or one of the fixtures below among its fixtures (directly or through other
fixtures): pytest-django's (every test under tests/studio/ has ``_django_db_helper`` through that
folder's autouse audit guard) or ``live_studio``, the end-to-end tests' studio, whose processes use a
database on the same server (tests/e2e/conftest.py). tests/test_embedded_studio.py uses none of
them: it runs ``aiot studio`` on its embedded default, which is SQLite by definition (SPEC §10),
so it is deselected, not run against PostgreSQL.
"""

from __future__ import annotations

import pytest

DATABASE_FIXTURES = frozenset(
    {
        "_django_db_helper",
        "db",
        "transactional_db",
        "django_db_setup",
        "django_db_reset_sequences",
        "django_db_serialized_rollback",
        "live_server",
        "live_studio",
    }
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--database-tests",
        action="store_true",
        help="run only the tests that use the database (deselect the rest): the PostgreSQL leg",
    )


def uses_database(item: pytest.Item) -> bool:
    fixtures = set(getattr(item, "fixturenames", ()))
    return item.get_closest_marker("django_db") is not None or bool(fixtures & DATABASE_FIXTURES)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("--database-tests"):
        return
    keep = [item for item in items if uses_database(item)]
    if len(keep) != len(items):
        kept = {id(item) for item in keep}
        config.hook.pytest_deselected(items=[item for item in items if id(item) not in kept])
        items[:] = keep
