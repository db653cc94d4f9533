"""The studio's data: tenants and roles, blueprints and versions, devices, bundles, alerts, audit."""

from .audit import AppendOnly, AuditEvent
from .fleet import Alert, Bundle, Deployment, DeploymentTarget, Device
from .library import Artifact, Blueprint, BlueprintVersion, Certification, VersionState
from .tasks import QueuedTask
from .tenancy import ApiToken, Membership, Tenant

__all__ = [
    "Alert",
    "ApiToken",
    "AppendOnly",
    "Artifact",
    "AuditEvent",
    "Blueprint",
    "BlueprintVersion",
    "Bundle",
    "Certification",
    "Deployment",
    "DeploymentTarget",
    "Device",
    "Membership",
    "QueuedTask",
    "Tenant",
    "VersionState",
]
