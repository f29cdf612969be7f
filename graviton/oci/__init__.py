"""The container-image adapter: image references, OCI/Docker manifests, the distribution API
client with its auth dance, Amazon ECR (API reader and registry credentials) and the local docker
engine's facts. Plain I/O and parsing; no verdicts (those are :mod:`graviton.checks`), and no
import of any capability package."""
