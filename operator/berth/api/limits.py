"""Lightsail's limits and defaults, named once and used by models, CEL rules and the operator."""

GROUP = "berth.dev"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"

MIN_SCALE = 1
MAX_SCALE = 20
MAX_CONTAINERS = 10
MAX_PUBLIC_DOMAINS = 4
MAX_VERSIONS = 50
MAX_TAGS = 50
MAX_TAG_KEY_LENGTH = 128
MAX_TAG_VALUE_LENGTH = 256
MAX_IMAGE_PULL_SECRETS = 10
MAX_COMMAND_ARGS = 256
MAX_ENVIRONMENT = 256
MAX_PORTS_PER_CONTAINER = 20
MAX_DOMAIN_LENGTH = 253
MAX_NAME_LENGTH = 63

HEALTHY_THRESHOLD = (2, 10, 2)  # (min, max, default)
UNHEALTHY_THRESHOLD = (2, 10, 2)
TIMEOUT_SECONDS = (2, 60, 2)
INTERVAL_SECONDS = (5, 300, 5)
DEFAULT_HEALTH_PATH = "/"
DEFAULT_SUCCESS_CODES = "200-499"
MIN_SUCCESS_CODE = 200
MAX_SUCCESS_CODE = 499

# A DNS label (RFC 1123), the shape of service and container names.
DNS_LABEL_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
# A hostname, optionally a leading wildcard label; compared case-insensitively.
_DOMAIN_LABEL = r"[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?"
DOMAIN_PATTERN = rf"^(\*\.)?({_DOMAIN_LABEL}\.)+[A-Za-z]([-A-Za-z0-9]{{0,61}}[A-Za-z0-9])?$"
# Comma-separated HTTP codes or ranges, e.g. "200,202" or "200-299".
SUCCESS_CODES_PATTERN = r"^[0-9]{3}(-[0-9]{3})?(,[0-9]{3}(-[0-9]{3})?)*$"
# Lightsail's tag characters: letters, spaces, digits and _ . : / = + - @
TAG_PATTERN = r"^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$"

# Registered images (`:<service>.<label>.<number>`): Lightsail keeps 150 per service, and a label
# is up to 53 lowercase letters, digits and '-', neither first nor last.
MAX_IMAGES = 150
MAX_IMAGE_LABEL_LENGTH = 53
DIGEST_PATTERN = r"^sha256:[a-f0-9]{64}$"
