"""The archive as deployed runs: built by the program, unpacked, imported by a bare Python 3.12.

The AWS archive and its dependency layer are built for x86_64 (this machine), unpacked into one
empty folder (Lambda puts /var/task and the layer's /opt/python on the path; here both are that
folder), and the thumbnail function's Lambda entry runs in ``python3.12 -I -S`` whose import path
is that folder plus boto3 (which Lambda's runtime provides, not the archive), on a real S3-via-SQS
event that moto produced: the thumbnail appears. For arm64, every native file in the layer must be
an aarch64 ELF and every extension module a cpython-312 one.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement

from portside import deployment as env
from portside import load_app
from portside.infra.bytecode import interpreter
from portside.infra.deps import PYTHON, analyse, pin, target_environment
from portside.infra.layer import build_layer, cache_dir
from portside.infra.package import build_package
from tests.aws.conftest import REGION, aws_environ, lambda_sqs_event, receive_all

REFERENCE = "handlers.app:app"
PYTHON312 = interpreter(PYTHON)
needs_python312 = pytest.mark.skipif(PYTHON312 is None, reason="no Python 3.12 (Lambda's runtime) on this machine")

RUNNER = """
import json, sys
sys.path[:0] = sys.argv[1:]      # the unpacked archive + layer, then the runtime's boto3
import portside.aws               # Lambda's init phase: handler = portside.aws.handler
print(json.dumps({"result": portside.aws.handler(json.load(sys.stdin), None),
                  "paths": [m.__file__ for m in (sys.modules["PIL"], sys.modules["portside"])]}))
"""


def aws_environment(url: str) -> dict[str, str]:
    return {**aws_environ(url), "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}


def lambda_runtime_boto3() -> Path:
    """boto3 as Lambda's runtime has it on its path: the version installed here, for Linux CPython 3.12."""
    pins = pin([Requirement("boto3")], target_environment("x86_64"), "Lambda's runtime")
    folder = cache_dir() / ("lambda-runtime-" + "-".join(f"{k}{v}" for k, v in sorted(pins.items()) if k == "boto3"))
    if not (folder / "boto3").is_dir():
        import sys

        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-deps",
                        "--no-compile", "--target", str(folder), *(f"{k}=={v}" for k, v in pins.items())],
                       check=True, capture_output=True, timeout=600)
    return folder


def unpack(files: dict[str, Any], layer_zip: Path, into: Path) -> None:
    for path, src in files.items():
        target = into / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(src.read_bytes() if isinstance(src, Path) else src)
    with zipfile.ZipFile(layer_zip) as z:
        for info in z.infolist():
            if info.filename.startswith("python/") and not info.is_dir():
                target = into / info.filename.removeprefix("python/")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(z.read(info))


def png(size: tuple[int, int]) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 90)).save(out, "PNG")
    return out.getvalue()


@needs_python312
def test_the_thumbnail_function_runs_from_the_built_archive_and_layer(moto_url: str, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    moto = moto_url
    for key, value in aws_environment(moto).items():
        monkeypatch.setenv(key, value)
    s3, sqs, ddb = (boto3.client(s, region_name=REGION) for s in ("s3", "sqs", "dynamodb"))
    for name in ("demo-uploads", "demo-thumbnails"):
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    ddb.create_table(TableName="demo-images", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    url = sqs.create_queue(QueueName="demo-uploads-make-thumbnail")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(Bucket="demo-uploads", NotificationConfiguration={
        "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]})
    s3.put_object(Bucket="demo-uploads", Key="photos/rex.png", Body=png((1200, 800)), ContentType="image/png")
    event = lambda_sqs_event(receive_all(sqs, url, 2), arn)  # s3:TestEvent, then the upload, as moto sends them

    app = load_app(REFERENCE)
    deps = analyse(app, REFERENCE, frozenset({"handlers"}), "x86_64")
    task = tmp_path / "task"
    unpack(build_package(app, "aws", REFERENCE, deps).files, build_layer(deps.pins, "x86_64").zip, task)
    environ = {**aws_environment(moto), "PATH": os.environ.get("PATH", ""), "_HANDLER": env.AWS_HANDLER,
               "AWS_LAMBDA_FUNCTION_NAME": "demo-make-thumbnail", "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
               env.APP: REFERENCE, env.FUNCTION: "make-thumbnail",
               env.RESOURCES: json.dumps({"uploads": "demo-uploads", "thumbnails": "demo-thumbnails",
                                          "images": "demo-images"})}
    done = subprocess.run([PYTHON312, "-I", "-S", "-c", RUNNER, str(task), str(lambda_runtime_boto3())],
                          input=json.dumps(event), env=environ, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["result"] == {"batchItemFailures": []}
    assert all(p.startswith(str(task)) for p in report["paths"])  # Pillow and portside from the unpacked folder

    from PIL import Image

    thumb = s3.get_object(Bucket="demo-thumbnails", Key="photos/rex.png.thumb.jpg")
    assert thumb["ContentType"] == "image/jpeg"
    assert Image.open(io.BytesIO(thumb["Body"].read())).size == (256, 171)
    row = ddb.get_item(TableName="demo-images", Key={"id": {"S": "photos/rex.png"}})["Item"]
    assert row["thumbnail"] == {"S": "photos/rex.png.thumb.jpg"} and row["width"] == {"N": "1200"}


EM_AARCH64 = 183


def test_every_native_file_of_the_arm64_layer_is_an_aarch64_cpython312_elf() -> None:
    app = load_app(REFERENCE)
    deps = analyse(app, REFERENCE, frozenset({"handlers"}), "arm64")
    with zipfile.ZipFile(build_layer(deps.pins, "arm64").zip) as z:
        native = {i.filename: z.read(i)[:20] for i in z.infolist()
                  if i.filename.endswith(".so") or ".so." in i.filename.rsplit("/", 1)[-1]}
    assert native, "Pillow ships native code: the layer must carry some"
    for name, head in native.items():
        assert head[:4] == b"\x7fELF" and head[4] == 2, f"{name} is not a 64-bit ELF"
        assert int.from_bytes(head[18:20], "little") == EM_AARCH64, f"{name} is not built for aarch64"
        if "/" in name and name.endswith(".so") and ".libs/" not in name:  # an extension module, not a vendored lib
            assert ".cpython-312-aarch64-linux-gnu.so" in name or ".abi3.so" in name, name
