"""The embedded cluster's fixed address ranges, shared by the control plane, its certificates
and the real node. None of them leaves the machine."""

SERVICE_CIDR = "10.96.0.0/16"
KUBERNETES_SERVICE_IP = "10.96.0.1"
POD_SUBNET = "10.89.0.0/16"
# The host's address on the node's bridge: CoreDNS listens there, and pods reach the API server
# there (devcluster.api_bridge).
BRIDGE_IP = "10.89.0.1"
