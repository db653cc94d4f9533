"""Model files in the studio: stored per tenant by sha256, referred to as ``artifact:<sha256>``."""

from __future__ import annotations

from edge_compiler.models import ARTIFACT, OnnxModels

from .models import Artifact, Tenant


class TenantModels(OnnxModels):
    """The ONNX model runtime, reading ``artifact:`` refs from the tenant's artifacts."""

    def __init__(self, tenant: Tenant):
        super().__init__(base_dir=None)
        self.tenant = tenant

    def read(self, ref: str) -> bytes:
        m = ARTIFACT.match(ref)
        if not m:
            raise LookupError(f"model {ref!r}: in the studio, models are artifact:<sha256> refs")
        data = Artifact.objects.filter(tenant=self.tenant, sha256=m.group(1)).values_list("data", flat=True).first()
        if data is None:
            raise LookupError(f"{ref}: no such model in {self.tenant.slug}'s artifacts")
        return bytes(data)
