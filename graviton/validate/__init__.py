"""``graviton validate``: run an image's arm64 variant under QEMU with the CPU model of the
Graviton generation it will get, and prove each installed distribution imports there."""
