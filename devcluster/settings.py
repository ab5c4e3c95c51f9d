"""The dev cluster's own BERTH_* environment variables; the operator reads none of them."""

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class DevSettings(BaseSettings):
    # An empty variable counts as unset, as `os.environ.get(...) or default` did.
    model_config = SettingsConfigDict(env_prefix="BERTH_", frozen=True, env_ignore_empty=True)

    kubeconfig: Path | None = Field(
        default=None,
        description="Use this cluster in tests and `make run` instead of the embedded one.",
    )
    cache: Path = Field(
        default_factory=lambda: Path.home() / ".cache" / "berth",
        description="Where the build scripts (cache.sh) and the image cache keep what they built.",
    )
    run_operator: Literal["auto", "pods", "process"] = Field(
        default="auto",
        description="How `make run` runs the operator: `pods` (helm install of the chart, the "
        "image built here; needs the real node), `process` (`python -m berth` beside the "
        "cluster, for working on the operator), or `auto` (pods where the real node runs).",
    )
