"""Which bundle runs: chosen and verified at start-up, then replaced by deployments.

At start-up a bundle deployed earlier (kept in the state directory) wins over ``--bundle``, as
long as ``--bundle`` is the file it was deployed over. A deployment is downloaded, verified and
made ready (its ONNX session built) on a worker thread; the agent swaps it in on the main thread,
between batches. Requests are handled one at a time, in order: the next one sees what the
previous one installed.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from edge_compiler.bundle import BundleError, read_bundle, sha256
from edge_compiler.signing import KeyError_, load_public_key

from .config import AgentConfig, ConfigError
from .deploy import BundleStore, DeployError, DeployRequest, fetch_bundle
from .engine import Evaluator
from .logs import Log

__all__ = ["Bundles", "Prepared"]


@dataclass
class Prepared:
    """A deployment made ready off the main thread: a verified bundle, or why it was refused."""

    request: DeployRequest
    evaluator: Evaluator | None = None
    error: str | None = None
    noop: bool = False  # the requested bundle is the one running
    retained: bool = False


class Bundles:
    def __init__(
        self, config: AgentConfig, log: Log, on_engine_error: Callable[[str, str], None], wake: Callable[[], None]
    ):
        self.config = config
        self.log = log
        self.on_engine_error = on_engine_error
        self.wake = wake
        self.trusted = self._load_trusted()
        self.store = BundleStore(config.state_dir)
        self.origin: str | None = None  # sha256 of the --bundle file
        self.previous_data: bytes | None = None
        self.previous_id: str | None = None
        self.active = self._startup()
        self._requests: queue.Queue[tuple[DeployRequest, bool] | None] = queue.Queue()
        self._ready: queue.SimpleQueue[Prepared] = queue.SimpleQueue()
        self._applied = threading.Event()

    # ---------------------------------------------------------------- verifying
    def _load_trusted(self) -> list[Ed25519PublicKey]:
        keys = []
        for path in self.config.trust:
            try:
                keys.append(load_public_key(Path(path)))
            except KeyError_ as exc:
                raise ConfigError(str(exc)) from None
        if not keys:
            self.log.warning("no_trusted_keys", detail="no --trust key: any validly signed bundle is accepted")
        return keys

    def build(self, data: bytes) -> Evaluator:
        """A verified bundle, ready to run; BundleError says why not."""
        bundle = read_bundle(data, self.trusted or None)
        try:
            return Evaluator(bundle, data, on_error=self.on_engine_error)
        except Exception as exc:  # a plan that cannot be built: refuse the bundle, whatever the cause
            raise BundleError(f"bundle {bundle.bundle_id} cannot run: {type(exc).__name__}: {exc}") from None

    def _startup(self) -> Evaluator:
        data = None
        if self.config.bundle:
            try:
                data = Path(self.config.bundle).read_bytes()
            except OSError as exc:
                raise ConfigError(f"cannot read bundle {self.config.bundle}: {exc.strerror}") from None
            self.origin = sha256(data)
        active, previous = self.store.load(self.origin)
        if active is not None:
            try:
                evaluator = self.build(active)
            except BundleError as exc:
                self.log.error("deployed_bundle_refused", state_dir=self.config.state_dir, error=str(exc))
            else:
                self.log.info("resuming_deployed_bundle", bundle=evaluator.bundle_id, state_dir=self.config.state_dir)
                if previous is not None:
                    try:
                        self.previous_id = read_bundle(previous, self.trusted or None).bundle_id
                        self.previous_data = previous
                    except BundleError as exc:
                        self.log.warning("previous_bundle_refused", error=str(exc), detail="no rollback possible")
                return evaluator
        if data is None:
            raise ConfigError("no bundle: give --bundle (the state directory holds no deployed bundle)")
        try:
            return self.build(data)
        except BundleError as exc:
            raise ConfigError(f"{self.config.bundle}: {exc}") from None

    def install(self, new: Evaluator) -> bool:
        """Make ``new`` the active bundle (main thread), the old one the previous; persist both.
        False when the state directory could not be written (the swap still happened)."""
        old = self.active
        self.active, self.previous_data, self.previous_id = new, old.data, old.bundle_id
        try:
            self.store.save(new.data, old.data, self.origin)
        except OSError as exc:
            self.log.error("state_dir_write_failed", state_dir=self.config.state_dir, error=str(exc))
            return False
        return True

    # ---------------------------------------------------------------- the deploy worker
    def start(self) -> None:
        threading.Thread(target=self._worker, name="deploy", daemon=True).start()

    def stop(self) -> None:
        self._requests.put(None)

    def submit(self, request: DeployRequest, retained: bool) -> None:
        self._requests.put((request, retained))

    def has_ready(self) -> bool:
        """Whether a prepared deployment waits (cheap enough for every pass of the loop)."""
        return not self._ready.empty()

    def take_ready(self) -> Prepared | None:
        """A prepared deployment, if one is waiting; call :meth:`done` once it is applied."""
        try:
            return self._ready.get_nowait()
        except queue.Empty:
            return None

    def done(self) -> None:
        self._applied.set()

    def _worker(self) -> None:
        while True:
            item = self._requests.get()
            if item is None:
                return
            request, retained = item
            self._applied.clear()
            try:
                prepared = self._prepare(request)
            except (DeployError, BundleError) as exc:
                prepared = Prepared(request, error=str(exc))
            except Exception as exc:  # whatever it is, the running bundle stays
                prepared = Prepared(request, error=f"{type(exc).__name__}: {exc}")
            prepared.retained = retained
            self._ready.put(prepared)
            self.wake()
            self._applied.wait()  # the next request sees the bundle this one installed

    def _prepare(self, request: DeployRequest) -> Prepared:
        if request.rollback:
            data = self.previous_data
            if data is None:
                raise DeployError("there is no previous bundle to roll back to")
        else:
            if request.sha256 == self.active.sha256:
                return Prepared(request, noop=True)
            if request.url and request.url.startswith("http://") and self.config.token:
                self.log.warning("deploy_insecure", detail="the device token is sent over plain http")
            data = fetch_bundle(
                request.url or "",
                request.sha256 or "",
                token=self.config.token,
                max_bytes=int(self.config.max_bundle_mb * 1024 * 1024),
                ca_file=self.config.http_ca,
            )
        return Prepared(request, evaluator=self.build(data))
