"""ContainerServicePower: one size of node, as in Lightsail's power table."""

from pydantic import Field

from berth.api.base import ApiModel


class PowerSpec(ApiModel):
    """CPU, memory and monthly price of one node of this power."""

    cpu_count: float = Field(gt=0, le=1024, description="vCPUs per node.")
    ram_size_in_gb: float = Field(gt=0, le=4096, description="Memory per node in GiB.")
    price: float = Field(ge=0, description="USD per node per month.")
    is_active: bool = Field(default=True, description="Whether new services may choose it.")

    def cpu_millicores(self) -> int:
        return round(self.cpu_count * 1000)

    def memory_mebibytes(self) -> int:
        return round(self.ram_size_in_gb * 1024)


class ContainerServicePower(ApiModel):
    """A whole ContainerServicePower object."""

    name: str
    spec: PowerSpec


# Lightsail's own table (USD per node per month), installed by the chart and `make run`.
DEFAULT_POWERS: dict[str, PowerSpec] = {
    "nano": PowerSpec(cpu_count=0.25, ram_size_in_gb=0.5, price=7),
    "micro": PowerSpec(cpu_count=0.25, ram_size_in_gb=1, price=10),
    "small": PowerSpec(cpu_count=0.5, ram_size_in_gb=1, price=15),
    "medium": PowerSpec(cpu_count=1, ram_size_in_gb=2, price=40),
    "large": PowerSpec(cpu_count=2, ram_size_in_gb=4, price=80),
    "xlarge": PowerSpec(cpu_count=4, ram_size_in_gb=8, price=160),
}
