"""The operator's one Settings object, read from BERTH_* environment variables."""

from enum import StrEnum
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from berth.lease_timing import Timing, timing_errors


class ResourcesMode(StrEnum):
    AUTO = "auto"  # pod-level where the API server supports it (Kubernetes >= 1.34)
    POD = "pod"
    CONTAINER = "container"


class HealthChecks(StrEnum):
    # Berth checks each pod with Lightsail's rules and sets the pod's readiness gate.
    OPERATOR = "operator"
    # The kubelet's readinessProbe, which counts 200-399 as healthy: for clusters where the
    # operator cannot reach pods, and kwok's, where kwok plays the kubelet (and sets every gate).
    KUBELET = "kubelet"


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


class Settings(BaseSettings):
    """Everything that differs between clusters; defaults suit the embedded dev cluster."""

    model_config = SettingsConfigDict(env_prefix="BERTH_", frozen=True)

    namespace: str = Field(default="berth-system", description="Namespace of the operator.")
    watch_namespaces: list[str] = Field(
        default_factory=list, description="Namespaces to watch; empty means all."
    )
    progress_deadline_seconds: int = Field(default=600, ge=5)
    certificate_deadline_seconds: int = Field(
        default=600,
        ge=30,
        description="A service whose certificates are not issued this long after they were "
        "asked for is Stalled (CertificateNotIssued).",
    )
    drain_seconds: int = Field(
        # 5 s left a request on a removed pod now and then on a loaded 2-core node, where the
        # ingress controller saw the endpoint change 4-6 s late.
        default=10,
        ge=0,
        le=25,
        description="Seconds a stopping pod keeps serving (preStop sleep) while the endpoint "
        "and the ingress controller forget it; 0 turns the hook off.",
    )
    region: str = "local"
    base_domain: str = "berth.internal"
    private_domain_suffix: str = "service.local"
    ingress_class_name: str | None = None
    cluster_issuer: str = "berth-ca"
    ingress_annotations: dict[str, str] = Field(default_factory=dict)
    resources_mode: ResourcesMode = ResourcesMode.AUTO

    # Proof of domain ownership (docs/domain-verification.md).
    domain_verification: bool = Field(
        default=True,
        description="Serve a custom domain only once its owner proved it in DNS (or an admin's "
        "DomainAllowList lists it); false admits the first service that asks, for clusters of "
        "one tenant.",
    )
    domain_verification_nameservers: list[str] = Field(
        default_factory=list,
        description="Resolvers to ask, `address` or `address:port`; empty: the system's.",
    )
    domain_verification_interval_seconds: float = Field(
        default=3600, ge=1, description="How often a proved domain's record is looked at again."
    )
    domain_verification_pending_seconds: float = Field(
        default=30,
        ge=1,
        description="How often a record not found yet (or a failed lookup) is looked for again.",
    )
    domain_verification_timeout_seconds: float = Field(default=5.0, gt=0)
    domain_verification_concurrency: int = Field(
        default=16, ge=1, description="DNS lookups in flight at the same time."
    )
    overcommit_ratio: float = Field(
        default=1.0,
        gt=0,
        le=1,
        description="Requests of CPU and memory as a share of the power's limits: 1 reserves "
        "the whole power (Guaranteed, as Lightsail's fixed capacity); 0.25 lets four times as "
        "many services share a node, each still limited to its power.",
    )
    health_checks: HealthChecks = Field(
        default=HealthChecks.OPERATOR,
        description="`operator`: Berth checks each pod as Lightsail does (successCodes, "
        "thresholds, interval, timeout) and sets a readiness gate; `kubelet`: a readinessProbe, "
        "which only counts 200-399 as healthy.",
    )
    health_check_concurrency: int = Field(
        default=64, ge=1, description="Health-check requests in flight at the same time."
    )
    metrics_port: int = Field(default=8080, description="Port of /metrics; 0 turns it off.")
    metrics_host: str = "0.0.0.0"
    health_port: int = Field(default=8081, description="Port of /healthz; 0 turns it off.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: LogFormat = Field(
        default=LogFormat.TEXT, description="`text`, or `json`: one JSON object a line."
    )
    workers: int = Field(default=32, ge=1, description="Services reconciled at the same time.")
    # The name is kept from when these were threads, so that charts and environments keep working.
    api_threads: int = Field(
        default=32, ge=1, description="Requests sent to the API server at the same time."
    )

    # The Lightsail API endpoint (`python -m berth.lightsail`); its access keys live as Secrets
    # in `namespace`, and `region` is the region its answers and signatures name.
    lightsail_host: str = Field(default="127.0.0.1", description="Address the endpoint listens on.")
    lightsail_port: int = Field(default=8443, ge=0, description="Port of the endpoint; 0: any.")
    lightsail_tls_cert: str | None = Field(
        default=None, description="PEM certificate chain; with lightsail_tls_key, serve HTTPS."
    )
    lightsail_tls_key: str | None = Field(default=None, description="PEM private key.")
    lightsail_max_body_bytes: int = Field(default=1 << 20, ge=1024)
    prometheus_url: str | None = Field(
        default=None,
        description="A Prometheus scraping the kubelets' cAdvisor metrics: the Lightsail "
        "endpoint's GetContainerServiceMetricData reads history from it (docs/metrics.md); "
        "without it, the one current sample of metrics.k8s.io.",
    )

    # The registry of registered images (`:<service>.<label>.<number>`); unset: Berth has none,
    # and a version naming one FAILS saying so. Pods pull with these credentials, copied into a
    # pull secret per service that uses a registered image.
    registry: str | None = Field(
        default=None, description="host[:port] of the registry, as image references start."
    )
    registry_pull_username: str = Field(default="", description="Pull user of the registry.")
    registry_pull_password: SecretStr = Field(
        default=SecretStr(""), description="Its password; never logged."
    )
    # Per-tenant registry access (docs/registered-images.md): with this Ed25519 key (PEM), pull
    # secrets hold a login for one service's repositories, and `python -m berth.registry_auth`
    # turns logins into the tokens the registry's `auth.token` verifies (its JWKS from this key).
    registry_token_key: SecretStr = Field(
        default=SecretStr(""), description="Ed25519 private key, PKCS#8 PEM; never logged."
    )
    registry_token_issuer: str = Field(default="berth", description="`iss` of the tokens.")
    registry_token_service: str = Field(
        default="berth-registry", description="`aud` of the tokens: the registry's `service`."
    )
    registry_token_seconds: int = Field(default=300, ge=30, description="Lifetime of a token.")
    registry_token_host: str = Field(default="127.0.0.1", description="Token service address.")
    registry_token_port: int = Field(default=5001, ge=0, description="Its port; 0: any.")
    registry_token_tls_cert: str | None = Field(
        default=None, description="PEM certificate chain; with the key, serve HTTPS."
    )
    registry_token_tls_key: str | None = Field(default=None, description="PEM private key.")
    # Deleted records take their manifests out of the registry (docs/registered-images.md):
    # with the token key the operator mints a login of the record's namespace, else it uses the
    # pull credentials. False: the operator neither adds nor removes the records' finalizer.
    registry_delete_manifests: bool = Field(
        default=True, description="Delete a deleted ContainerImage's manifest from the registry."
    )
    registry_ca: str = Field(
        default="", description="PEM of the CA the registry's certificate is checked against."
    )

    leader_election: bool = Field(
        default=True,
        description="Work only while holding the leader's Lease; false runs alone, unfenced "
        "(one replica, or `python -m berth` beside nothing else).",
    )
    leader_election_lease_name: str = "berth-operator"
    leader_election_namespace: str = Field(
        default="", description="Namespace of the Lease; empty means the operator's namespace."
    )
    leader_election_identity: str = Field(
        default="",
        description="This process's name in the Lease; empty means the host's name (the pod's, "
        "in a pod) and a random suffix.",
    )
    # client-go's defaults.
    leader_election_lease_seconds: int = Field(default=15, ge=1)
    leader_election_renew_deadline_seconds: float = Field(default=10.0, gt=0)
    leader_election_retry_period_seconds: float = Field(default=2.0, gt=0)

    @model_validator(mode="after")
    def _leader_election_timing(self) -> "Settings":
        errors = timing_errors(self.leader_timing())
        if errors:
            raise ValueError("leader election: " + "; ".join(errors))
        return self

    def leader_timing(self) -> Timing:
        return Timing(
            self.leader_election_lease_seconds,
            self.leader_election_renew_deadline_seconds,
            self.leader_election_retry_period_seconds,
        )

    def lease_namespace(self) -> str:
        return self.leader_election_namespace or self.namespace

    def scopes(self) -> list[str | None]:
        """Where namespaced kinds are listed and watched: each watched namespace, or None for
        all of them."""
        return list(self.watch_namespaces) or [None]


def load() -> Settings:
    return Settings()
