"""``python -m tests.e2e.bootstrap``: the live studio's database, made in one process:
``migrate``, then ``seed_demo`` (with a generous performance budget).

The demo users' passwords are hashed with PBKDF2 at a low iteration count: the studio's own
PBKDF2 hasher checks them (the count is part of the hash) and re-hashes at full strength on the
first sign-in, so seeding does not pay six full-cost hashes on a busy test machine.
"""

from __future__ import annotations

import django
from django.contrib.auth.hashers import PBKDF2PasswordHasher

E2E_BUDGET = {"p99_ms_per_batch": 10_000, "batch": 100}


class QuickPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    iterations = 1000


def main() -> None:
    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.PASSWORD_HASHERS = [f"{__name__}.QuickPBKDF2PasswordHasher", *settings.PASSWORD_HASHERS]
    call_command("migrate", interactive=False, verbosity=0)
    call_command("seed_demo", quiet=True)
    from blueprints.models import BlueprintVersion

    # Tests never fail on time (as in tests/studio): the seeded blueprints' performance budget is
    # generous, so that a certification on a busy test machine still gets its verdict.
    BlueprintVersion.objects.update(budget=E2E_BUDGET)


if __name__ == "__main__":
    main()
