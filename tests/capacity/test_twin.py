"""The pure decisions behind the twin: which arm64 AMI parameter, which Graviton type."""

from __future__ import annotations

import pytest

from graviton.capacity.twin import ami_family, map_type, template_data
from graviton.instances import Generation


@pytest.mark.parametrize(
    ("name", "parameter"),
    [
        ("al2023-ami-ecs-hvm-2023.0.20260922-kernel-6.1-x86_64",
         "/aws/service/ecs/optimized-ami/amazon-linux-2023/arm64/recommended/image_id"),
        ("amzn2-ami-ecs-hvm-2.0.20260924-x86_64-ebs",
         "/aws/service/ecs/optimized-ami/amazon-linux-2/arm64/recommended/image_id"),
        ("amzn2-ami-ecs-kernel-5.10-hvm-2.0.20260924-x86_64-ebs",
         "/aws/service/ecs/optimized-ami/amazon-linux-2/kernel-5.10/arm64/recommended/image_id"),
        ("bottlerocket-aws-ecs-2-x86_64-v1.26.1-943d9a41",
         "/aws/service/bottlerocket/aws-ecs-2/arm64/latest/image_id"),
        ("bottlerocket-aws-ecs-1-x86_64-v1.20.0-abc",
         "/aws/service/bottlerocket/aws-ecs-1/arm64/latest/image_id"),
    ],
)  # fmt: skip
def test_known_families_map_to_their_arm64_parameter(name: str, parameter: str) -> None:
    family = ami_family(name)
    assert family is not None and family.arm64_parameter == parameter


@pytest.mark.parametrize(
    "name",
    [
        "my-company-ecs-x86",
        "al2023-ami-ecs-gpu-hvm-2023.0.20260922-kernel-6.1-x86_64",
        "al2023-ami-ecs-neuron-hvm-2023.0.20260922-kernel-6.1-x86_64",
        "amzn2-ami-ecs-gpu-hvm-2.0.20260924-x86_64-ebs",
        "al2023-ami-ecs-hvm-2023.0.20260922-kernel-6.1-arm64",
    ],
)
def test_custom_gpu_and_arm_amis_have_no_known_family(name: str) -> None:
    assert ami_family(name) is None


@pytest.mark.parametrize(
    ("x86", "family", "generation", "want"),
    [
        ("m6i.xlarge", None, None, "m6g.xlarge"),
        ("r6i.large", None, None, "r6g.large"),
        ("c7i.2xlarge", None, None, "c7g.2xlarge"),
        ("m6i.xlarge", "m7g", None, "m7g.xlarge"),
        ("r6i.large", None, Generation.GRAVITON4, "r8g.large"),
        ("m5d.xlarge", None, Generation.GRAVITON3, "m7gd.xlarge"),
        ("m6i.24xlarge", None, None, None),
        ("p4d.24xlarge", None, None, None),
        ("t3.large", None, Generation.GRAVITON3, None),
        ("m6i.xlarge", "m6i", None, None),
    ],
)
def test_map_type(
    x86: str, family: str | None, generation: Generation | None, want: str | None
) -> None:
    assert map_type(x86, family=family, generation=generation).graviton_type == want


def test_template_data_copies_all_but_ami_and_type() -> None:
    x86 = {
        "ImageId": "ami-x86",
        "InstanceType": "m6i.xlarge",
        "UserData": "ZWNobw==",
        "TagSpecifications": [
            {"ResourceType": "launch-template", "Tags": []},
            {"ResourceType": "instance", "Tags": [{"Key": "a", "Value": "b"}]},
        ],
    }
    data = template_data(x86, "ami-arm", "m6g.xlarge")
    assert data == {
        "ImageId": "ami-arm",
        "InstanceType": "m6g.xlarge",
        "UserData": "ZWNobw==",
        "TagSpecifications": [{"ResourceType": "instance", "Tags": [{"Key": "a", "Value": "b"}]}],
    }
