"""``manage.py seed_demo``: the demo tenant, a user per role, the built-in blueprints. Idempotent."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from blueprints.actions import (
    Actor,
    do_add_member,
    do_create_platform_admin,
    do_create_tenant,
    do_install_package,
    do_register_device,
)
from blueprints.models import Blueprint, Device, Membership, Tenant
from blueprints.package import builtin_packages
from blueprints.roles import Role

DEMO_PASSWORD = "demo-password"  # printed at start; the demo is for a newcomer's own machine


class Command(BaseCommand):
    help = "Create the demo tenant with one user per role, the built-in blueprints and demo devices."

    def add_arguments(self, parser):
        parser.add_argument("--devices", type=int, default=6, help="demo gateways to register")
        parser.add_argument("--quiet", action="store_true")

    @transaction.atomic
    def handle(self, *args, **options):
        system = Actor.system_actor("seed")
        User = get_user_model()
        if not User.objects.filter(username="admin").exists():
            do_create_platform_admin(system, "admin", DEMO_PASSWORD)
        tenant = Tenant.objects.filter(slug="demo").first() or do_create_tenant(system, "demo", "Demo Warehouse Co.")
        for role in Role.values:
            username = f"demo-{role}"
            if not Membership.objects.filter(tenant=tenant, user__username=username).exists():
                do_add_member(system, tenant, username, role, password=DEMO_PASSWORD)
        if not Membership.objects.filter(tenant=tenant, user__username="admin").exists():
            do_add_member(system, tenant, "admin", Role.ADMIN)
        for package in builtin_packages():
            if not Blueprint.objects.filter(tenant=tenant, slug=package.slug).exists():
                do_install_package(system, tenant, package)
        for i in range(1, options["devices"] + 1):
            device_id = f"gw-{i:02d}"
            if not Device.objects.filter(tenant=tenant, device_id=device_id).exists():
                group = ("warehouse", "cold-chain", "maintenance")[(i - 1) % 3]
                do_register_device(system, tenant, device_id, name=f"Gateway {i} ({group})", group=group)
        if not options["quiet"]:
            self.stdout.write(
                "demo tenant 'demo': users "
                + ", ".join(f"demo-{r}" for r in Role.values)
                + f" and admin, password {DEMO_PASSWORD!r}"
            )
