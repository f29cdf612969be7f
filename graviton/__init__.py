"""graviton: move Python services on ECS from x86 to AWS Graviton (arm64) without an outage."""

__version__ = "0.1.0"
