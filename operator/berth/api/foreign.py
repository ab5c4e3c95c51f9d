"""Other projects' APIs that Berth reads or annotates for: each group, kind and key named once."""

# cert-manager: its ingress-shim turns an annotated Ingress into Certificates; Berth reads them.
CERT_MANAGER_GROUP = "cert-manager.io"
CERT_MANAGER_VERSION = "v1"
CERTIFICATE_KIND = "Certificate"
CERTIFICATES = "certificates"
CERTIFICATE_CRD = f"{CERTIFICATES}.{CERT_MANAGER_GROUP}"
CLUSTER_ISSUER_ANNOTATION = f"{CERT_MANAGER_GROUP}/cluster-issuer"
# A ResourceQuota's object count of Certificates: a namespace's "certificates per account" limit.
CERTIFICATE_QUOTA = f"count/{CERTIFICATES}.{CERT_MANAGER_GROUP}"

# The label every tool reads to tell who manages an object.
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
NAME_LABEL = "app.kubernetes.io/name"
COMPONENT_LABEL = "app.kubernetes.io/component"
