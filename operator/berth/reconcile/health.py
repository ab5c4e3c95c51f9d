"""Lightsail's health checks, made by the operator: every pod with Berth's readiness gate is
checked with its version's rules, and the gate's condition is written on transitions only.

One task per pod, sleeping between checks; at most `concurrency` requests in flight. Only the
leader runs it (handlers/lifecycle.py), and its writes go through the fenced client.
"""

import asyncio
import logging
import random
import time

import aiohttp
from pydantic import ValidationError

from berth import metrics
from berth.api.content import HealthTarget, Protocol
from berth.kube import resources
from berth.kube.client import ApiError, Kube, NotFound, NotLeader
from berth.kube.resources import Key, key_of
from berth.reconcile.context import now
from berth.render import health, names
from berth.runtime.store import Body, Store
from berth.status import pods
from berth.status.health_check import Tally, passes, verdict

logger = logging.getLogger(__name__)
USER_AGENT = "berth-health-check"


def target_of(pod: Body) -> HealthTarget | None:
    """What to check on `pod`, from the annotation Berth renders beside the readiness gate."""
    annotations = (pod.get("metadata") or {}).get("annotations") or {}
    text = annotations.get(names.HEALTH_TARGET_ANNOTATION)
    if not text:
        return None
    try:
        return HealthTarget.model_validate_json(text)
    except ValidationError:
        logger.warning("%s/%s: unreadable health check annotation", *key_of(pod))
        return None


def checkable(pod: Body) -> bool:
    """A pod with an address and its containers up (its port takes connections) is checked."""
    status = pod.get("status") or {}
    return (
        target_of(pod) is not None
        and bool(status.get("podIP"))
        and not pods.deleting(pod)
        and pods.containers_ready(pod)
    )


def url_of(target: HealthTarget, ip: str) -> str:
    host = f"[{ip}]" if ":" in ip else ip
    scheme = "https" if target.scheme == Protocol.HTTPS else "http"
    return f"{scheme}://{host}:{target.port}{target.health_check.path}"


class HealthChecker:
    def __init__(self, kube: Kube, store: Store, concurrency: int) -> None:
        self.kube = kube
        self.store = store
        self.in_flight = asyncio.Semaphore(concurrency)
        self.tasks: dict[Key, asyncio.Task[None]] = {}
        self.session: aiohttp.ClientSession | None = None

    @property
    def running(self) -> bool:
        return self.session is not None

    def start(self) -> None:
        """Check every pod the store holds, and from now on each one `saw` is told of."""
        # A new connection per check, as a load balancer's checker makes: thousands of idle
        # kept-alive sockets would cost more than the handshakes. Backends' certificates are
        # not verified (Lightsail's load balancer does not either).
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0, force_close=True, ssl=False),
            headers={"User-Agent": USER_AGENT},
        )
        for pod in self.store.all(resources.POD):
            self.saw(pod)

    def saw(self, pod: Body) -> None:
        """A pod changed: start checking it if it is checkable and not checked yet. A running
        check reads the pod from the store itself, and ends when the pod goes."""
        key = key_of(pod)
        if not self.running or key in self.tasks or not checkable(pod):
            return
        task = asyncio.create_task(self._check(key), name=f"health-check {key[0]}/{key[1]}")
        self.tasks[key] = task
        metrics.HEALTH_CHECKED_PODS.set(len(self.tasks))

        def done(finished: asyncio.Task[None]) -> None:
            if self.tasks.get(key) is finished:
                del self.tasks[key]
                metrics.HEALTH_CHECKED_PODS.set(len(self.tasks))
            if not finished.cancelled() and finished.exception() is not None:
                logger.error("health check of %s/%s ended", *key, exc_info=finished.exception())

        task.add_done_callback(done)

    def forget(self, key: Key) -> None:
        task = self.tasks.pop(key, None)
        if task is not None:
            task.cancel()
            metrics.HEALTH_CHECKED_PODS.set(len(self.tasks))

    async def stop(self) -> None:
        tasks = list(self.tasks.values())
        self.tasks.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        metrics.HEALTH_CHECKED_PODS.set(0)
        if self.session is not None:
            await self.session.close()
            self.session = None

    async def _check(self, key: Key) -> None:
        pod = self.store.get(resources.POD, key)
        target = None if pod is None else target_of(pod)
        if pod is None or target is None:
            return
        check = target.health_check
        tally = Tally()
        if pods.condition_status(pod, names.HEALTH_GATE) is not None:
            # Judged before (a new leader takes over every pod at once): spread these checks over
            # one interval rather than send them all in the same instant, interval after interval.
            # A pod nobody judged yet waits for its first verdict, so it is checked at once.
            await asyncio.sleep(random.uniform(0, check.interval_seconds))
        # What we last wrote, and the pod's resourceVersion in the store when we wrote it: until
        # the watch brings a newer pod, the store does not show our write yet.
        written: tuple[bool, str] | None = None
        while True:
            pod = self.store.get(resources.POD, key)
            ip = ((pod or {}).get("status") or {}).get("podIP")
            if pod is None or pods.deleting(pod) or not ip:
                return
            started = time.monotonic()
            healthy, message = await self._probe(target, ip)
            tally = tally.after(healthy)
            pod = self.store.get(resources.POD, key) or pod
            version = pod["metadata"].get("resourceVersion", "")
            current = pods.condition_status(pod, names.HEALTH_GATE)
            if written is not None and written[1] == version:
                current = written[0]
            decided = verdict(tally, check, current)
            if decided is not None and await self._set(key, decided, message):
                written = (decided, version)
            elapsed = time.monotonic() - started
            await asyncio.sleep(max(0.0, check.interval_seconds - elapsed))

    async def _probe(self, target: HealthTarget, ip: str) -> tuple[bool, str]:
        """One GET, Lightsail's way: no redirects followed, `timeoutSeconds` for the whole answer,
        healthy when its code is one of `successCodes`."""
        assert self.session is not None
        check = target.health_check
        what = f"GET {check.path} on port {target.port}"
        async with self.in_flight:
            started = time.monotonic()
            try:
                async with self.session.get(
                    url_of(target, ip),
                    allow_redirects=False,
                    timeout=aiohttp.ClientTimeout(total=check.timeout_seconds),
                ) as answer:
                    code = answer.status
            except TimeoutError:
                code, problem = None, f"{what}: no answer within {check.timeout_seconds}s"
            except (aiohttp.ClientError, OSError) as error:
                code, problem = None, f"{what}: {error or type(error).__name__}"
            metrics.HEALTH_CHECK_SECONDS.observe(time.monotonic() - started)
        if code is None:
            metrics.HEALTH_CHECKS.labels(result="fail").inc()
            return False, problem
        healthy = passes(code, check.success_codes)
        metrics.HEALTH_CHECKS.labels(result="pass" if healthy else "fail").inc()
        return healthy, f"{what} answered {code}; successCodes are {check.success_codes}"

    async def _set(self, key: Key, healthy: bool, message: str) -> bool:
        """Write the gate's condition; False when it was not written (the pod gone, refused)."""
        patch = health.gate_patch(healthy, message, now())
        try:
            await self.kube.patch(
                resources.POD, key[0], key[1], patch, subresource="status", strategic=True
            )
        except NotFound:
            return False
        except NotLeader:
            # The lease is in doubt for a moment (or lost: then the process ends). The next check
            # tries again, as the gate still differs from what the checks say.
            logger.debug("%s/%s: not the leader; health check condition not written", *key)
            return False
        except ApiError as error:
            logger.warning("%s/%s: health check condition not written: %s", *key, error.message)
            return False
        logger.info("%s/%s: %s (%s)", *key, "healthy" if healthy else "unhealthy", message)
        return True
