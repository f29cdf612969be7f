"""The example trading service (only here so the Dockerfile is complete)."""

import platform

print(f"quote service up on {platform.machine()}")
