"""Stack settings: which cloud, the name prefix, the region, and the escape-hatch overrides.

Everything the program reads from stack config is read here, once, with errors that say
which key to set and how.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import Any

import pulumi

from portside import project as projects
from portside.errors import DeclarationError

CLOUDS = ("aws", "gcp")
AWS_ARCHITECTURES = ("arm64", "x86_64")
RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
                  3288, 3653)  # what CloudWatch Logs accepts


class ConfigError(DeclarationError):
    """Stack config that cannot work; the message says which `pulumi config set` fixes it."""


@dataclass(frozen=True)
class Settings:
    cloud: str
    stack: str
    app_spec: str  # "module:attribute" of the App
    prefix: str | None = None  # None: "<app name>-<stack>"
    project: str | None = None  # gcp:project
    region: str = "us-central1"  # gcp:region (AWS takes its region from aws:region)
    firestore_location: str | None = None  # app:firestoreLocation (default: the region), e.g. nam5, eur3
    log_retention_days: int = 30
    public_api: bool = True
    aws_layers: tuple[str, ...] = ()  # app:awsLayers: extra Lambda layer ARNs on every function
    aws_architecture: str = "arm64"  # app:awsArchitecture: arm64 or x86_64 (functions and the dependency layer)
    api_rate_limit: float = 50.0  # app:apiRateLimit: requests/s per API stage (API Gateway's default is the account's)
    api_burst_limit: int = 100  # app:apiBurstLimit
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)


def check_cloud(value: object) -> str:
    if value not in CLOUDS:
        got = "is not set" if value in (None, "") else f"is {value!r}"
        raise ConfigError(
            f"stack config app:cloud {got}; it must be one of {', '.join(CLOUDS)}. "
            f"Set it with: pulumi config set app:cloud aws   (or: pulumi config set app:cloud gcp)"
        )
    return str(value)


def read_settings() -> Settings:
    """Read the current stack's config (app:*, gcp:*)."""
    app_cfg = pulumi.Config("app")
    cloud = check_cloud(app_cfg.get("cloud"))
    overrides = _json(app_cfg.get("overrides"), "app:overrides", "a JSON object of resource name -> arguments", {})
    if not isinstance(overrides, dict) or not all(isinstance(v, dict) for v in overrides.values()):
        raise ConfigError("app:overrides must be a JSON object of resource name -> {argument: value}")
    project = region = None
    if cloud == "gcp":
        gcp_cfg = pulumi.Config("gcp")
        project = gcp_cfg.get("project")
        if not project:
            raise ConfigError("a gcp stack needs gcp:project. Set it with: pulumi config set gcp:project my-project-id")
        region = gcp_cfg.get("region") or "us-central1"
    layers = _json(app_cfg.get("awsLayers"), "app:awsLayers", "a JSON list of Lambda layer ARNs", []) or []
    if not isinstance(layers, list) or not all(isinstance(x, str) and x.startswith("arn:") for x in layers):
        raise ConfigError("app:awsLayers must be a JSON list of Lambda layer ARNs, e.g. "
                          "pulumi config set app:awsLayers '[\"arn:aws:lambda:eu-west-1:123456789012:layer:pillow:1\"]'")
    arch = app_cfg.get("awsArchitecture") or "arm64"
    if arch not in AWS_ARCHITECTURES:
        raise ConfigError(f"app:awsArchitecture is {arch!r}; Lambda runs {' or '.join(AWS_ARCHITECTURES)}. "
                          "Set it with: pulumi config set app:awsArchitecture arm64")
    rate, burst = app_cfg.get_float("apiRateLimit"), app_cfg.get_int("apiBurstLimit")
    for key, value in (("apiRateLimit", rate), ("apiBurstLimit", burst)):
        if value is not None and value <= 0:
            raise ConfigError(f"app:{key} is {value}; it must be > 0 (requests per second for the rate, "
                              f"requests for the burst). Set it with: pulumi config set app:{key} 100")
    retention = app_cfg.get_int("logRetentionDays") or 30
    if retention not in RETENTION_DAYS:
        raise ConfigError(f"app:logRetentionDays is {retention}; CloudWatch Logs accepts one of {RETENTION_DAYS}. "
                          "Set it with: pulumi config set app:logRetentionDays 30")
    return Settings(
        cloud=cloud, stack=pulumi.get_stack(),
        app_spec=os.environ.get("PORTSIDE_APP") or app_cfg.get("app") or projects.app_spec(),
        prefix=app_cfg.get("prefix"), project=project, region=region or "us-central1",
        firestore_location=app_cfg.get("firestoreLocation"), log_retention_days=retention,
        public_api=app_cfg.get_bool("publicApi") is not False,
        overrides=overrides, aws_layers=tuple(layers), aws_architecture=arch,
        api_rate_limit=rate or Settings.api_rate_limit, api_burst_limit=burst or Settings.api_burst_limit,
    )


def _json(raw: str | None, key: str, what: str, default: Any) -> Any:
    try:
        return json.loads(raw) if raw else default
    except json.JSONDecodeError as e:
        raise ConfigError(f"{key} must be {what}: {e}") from None


def name_prefix(app_name: str, settings: Settings) -> str:
    """Physical names start with "<app>-<stack>" (lowercased, '-' for anything else)."""
    raw = settings.prefix or f"{app_name}-{settings.stack}"
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9-]", "-", raw.lower())).strip("-")
