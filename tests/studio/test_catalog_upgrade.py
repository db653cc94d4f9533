"""Upgrading a blueprint installed from the catalog to a newer published version of its source;
forking, which keeps what the source declares."""

from __future__ import annotations

import copy

import pytest

from blueprints.models import Blueprint, BlueprintVersion, VersionState
from tests.studio.conftest import body
from tests.studio.test_catalog import install_warehouse


def published(bp: Blueprint, version: str) -> BlueprintVersion:
    """Published without running the pipeline (certification has its own tests)."""
    BlueprintVersion.objects.filter(blueprint=bp, version=version).update(state=VersionState.PUBLISHED)
    return BlueprintVersion.objects.get(blueprint=bp, version=version)


@pytest.fixture
def installed(acme, globex, client_as):
    """Acme's warehouse 1.0.0 installed into Globex with a speed limit of 6, and Acme's 1.1.0
    (one node relabelled, the speed limit's maximum lowered to 5, its default to 4) published after it."""
    source = install_warehouse(acme["tenant"])
    first = published(source, "1.0.0")
    designer = client_as(globex["users"]["designer"])
    r = designer.post(
        f"/api/v1/catalog/{first.pk}/install",
        {"tenant": "globex", "slug": "warehouse", "params": {"aisle_speed_limit_kmh": 6, "person_probability": 0.5}},
        format="json",
    )
    assert r.status_code == 201, body(r)
    newer = copy.deepcopy(first.graph)
    newer["nodes"][-1]["label"] = "Person ahead (renamed)"
    newer["params"]["properties"]["aisle_speed_limit_kmh"].update(maximum=5, default=4)
    BlueprintVersion.objects.create(
        blueprint=source, version="1.1.0", graph=newer, readme="# 1.1", scenarios=first.scenarios, budget={"batch": 50}
    )
    second = published(source, "1.1.0")
    return {"designer": designer, "first": first, "second": second}


def test_an_upgrade_makes_a_draft_of_the_newer_version_keeping_the_values_it_still_accepts(installed, globex):
    designer, second = installed["designer"], installed["second"]
    offered = designer.get("/api/v1/t/globex/blueprints/warehouse/upgrades").json()
    assert [(u["catalog_id"], u["version"]) for u in offered] == [(second.pk, "1.1.0")]
    r = designer.post("/api/v1/t/globex/blueprints/warehouse/upgrade", {"catalog_id": second.pk}, format="json")
    assert r.status_code == 201, body(r)
    assert r.json()["version"] == "1.1.0" and r.json()["state"] == "draft"
    v = BlueprintVersion.objects.get(blueprint__tenant=globex["tenant"], blueprint__slug="warehouse", version="1.1.0")
    props = v.graph["params"]["properties"]
    assert props["person_probability"]["default"] == 0.5  # kept
    assert props["aisle_speed_limit_kmh"]["default"] == 4  # 6 is over the new maximum: the new default applies
    assert v.graph["nodes"][-1]["label"] == "Person ahead (renamed)"
    assert v.readme == "# 1.1" and v.budget == {"batch": 50}
    assert Blueprint.objects.get(tenant=globex["tenant"], slug="warehouse").forked_from_id == second.pk
    assert designer.get("/api/v1/t/globex/blueprints/warehouse/upgrades").json() == []
    again = designer.post("/api/v1/t/globex/blueprints/warehouse/upgrade", {"catalog_id": second.pk}, format="json")
    assert again.status_code == 409


def test_an_upgrade_checks_the_values_it_is_given(installed):
    r = installed["designer"].post(
        "/api/v1/t/globex/blueprints/warehouse/upgrade",
        {"catalog_id": installed["second"].pk, "params": {"aisle_speed_limit_kmh": 9}},
        format="json",
    )
    assert r.status_code == 400 and body(r)["error"]["field"] == "params"
    assert "aisle_speed_limit_kmh" in body(r)["error"]["message"]


@pytest.mark.parametrize(
    "who,catalog,status",
    [
        ("designer", "first", 409),  # not newer
        ("designer", "draft", 404),  # not in the catalog
        ("designer", "other", 400),  # another catalog blueprint
        ("viewer", "second", 403),
    ],
)
def test_an_upgrade_is_refused_when_it_is_not_one(installed, acme, globex, client_as, who, catalog, status):
    if catalog == "draft":
        target = acme["version"].pk
    elif catalog == "other":
        target = published(acme["blueprint"], acme["version"].version).pk
    else:
        target = installed[catalog].pk
    client = client_as(globex["users"][who])
    r = client.post("/api/v1/t/globex/blueprints/warehouse/upgrade", {"catalog_id": target}, format="json")
    assert r.status_code == status, body(r)


def test_another_tenant_cannot_upgrade_the_installed_blueprint(installed, acme, client_as):
    r = client_as(acme["users"]["admin"]).post(
        "/api/v1/t/globex/blueprints/warehouse/upgrade", {"catalog_id": installed["second"].pk}, format="json"
    )
    assert r.status_code == 404


def test_a_fork_keeps_the_performance_budget_of_the_version_it_copies(acme, client_as):
    source = install_warehouse(acme["tenant"])  # a generous budget, set by the helper
    r = client_as(acme["users"]["designer"]).post(
        f"/api/v1/t/acme/blueprints/{source.slug}/fork", {"slug": "my-warehouse"}, format="json"
    )
    assert r.status_code == 201, body(r)
    fork = BlueprintVersion.objects.get(blueprint__tenant=acme["tenant"], blueprint__slug="my-warehouse")
    assert fork.budget == BlueprintVersion.objects.get(blueprint=source).budget != {}
