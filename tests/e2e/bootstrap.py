"""``python -m tests.e2e.bootstrap``: the live studio's database, made in one process:
``migrate``, then ``seed_demo``.

The demo users' passwords are hashed with PBKDF2 at a low iteration count: the studio's own
PBKDF2 hasher checks them (the count is part of the hash) and re-hashes at full strength on the
first sign-in, so seeding does not pay six full-cost hashes on a busy test machine.
"""

from __future__ import annotations

import django
from django.contrib.auth.hashers import PBKDF2PasswordHasher


class QuickPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    iterations = 1000


def main() -> None:
    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.PASSWORD_HASHERS = [f"{__name__}.QuickPBKDF2PasswordHasher", *settings.PASSWORD_HASHERS]
    call_command("migrate", interactive=False, verbosity=0)
    call_command("seed_demo", quiet=True)


if __name__ == "__main__":
    main()
