"""deploy/: the compose file, the Kubernetes manifests and the Dockerfile do what an operator needs.

Parsed with PyYAML (the Dockerfile as text), so a regression shows up here even where
hadolint and yamllint (``make lint``) would accept the file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
DATA = "/home/clipdesk/data"
C2PA_MOUNT = "/etc/clipdesk/c2pa"


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return data


def k8s() -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all((DEPLOY / "k8s" / "clipdesk.yaml").read_text()) if doc]


def of_kind(kind: str) -> list[dict[str, Any]]:
    return [doc for doc in k8s() if doc["kind"] == kind]


def deployments() -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for doc in of_kind("Deployment")}


def pod(doc: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = doc["spec"]["template"]["spec"]
    return spec


def main_container(doc: dict[str, Any]) -> dict[str, Any]:
    [container] = pod(doc)["containers"]
    return dict(container)


# ---------------------------------------------------------------------- compose


def test_compose_services_restart_unless_stopped_except_the_one_shot_migration() -> None:
    services = compose()["services"]
    for name in ("postgres", "serve", "worker"):
        assert services[name]["restart"] == "unless-stopped", name
    assert services["migrate"]["restart"] == "no"


def test_compose_migrates_once_before_serve_and_workers_start() -> None:
    services = compose()["services"]
    assert services["migrate"]["command"] == ["db", "upgrade"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("serve", "worker"):
        depends = services[name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy", name
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
    assert services["worker"]["depends_on"]["serve"]["condition"] == "service_healthy"
    conditions = [c["condition"] for s in services.values() for c in s.get("depends_on", {}).values()]
    assert "service_started" not in conditions


def test_compose_builds_the_image_once_and_every_clipdesk_service_reuses_it() -> None:
    services = compose()["services"]
    builders = [name for name, s in services.items() if "build" in s]
    assert builders == ["migrate"]
    image = services["migrate"]["image"]
    for name in ("serve", "worker"):
        assert services[name]["image"] == image
        assert services[name]["pull_policy"] == "never"  # never looked up in a registry


def test_compose_env_file_is_optional_and_has_a_template() -> None:
    services = compose()["services"]
    for name in ("migrate", "serve", "worker"):
        [env_file] = services[name]["env_file"]
        assert env_file == {"path": "../.env", "required": False}
        assert services[name]["volumes"] == [f"media:{DATA}"]
    assert (ROOT / ".env.example").is_file()


# ---------------------------------------------------------------------- Kubernetes


def test_every_pod_runs_as_clipdesk_with_fs_group_so_the_volume_is_writable() -> None:
    for doc in [*of_kind("Deployment"), *of_kind("Job")]:
        security = pod(doc)["securityContext"]
        assert security["runAsUser"] == 10001 and security["fsGroup"] == 10001, doc["metadata"]["name"]
        assert security["runAsNonRoot"] is True


def test_every_deployment_has_liveness_and_readiness_probes() -> None:
    found = deployments()
    assert set(found) == {"clipdesk-serve", "clipdesk-worker"}
    for name, doc in found.items():
        container = main_container(doc)
        assert "livenessProbe" in container and "readinessProbe" in container, name


def test_serve_probes_healthz_and_workers_probe_the_health_command() -> None:
    serve = main_container(deployments()["clipdesk-serve"])
    assert serve["readinessProbe"]["httpGet"]["path"] == "/healthz"
    worker = main_container(deployments()["clipdesk-worker"])
    for probe in ("livenessProbe", "readinessProbe"):
        assert worker[probe]["exec"]["command"] == ["clipdesk", "health"]
        assert "httpGet" not in worker[probe]


def test_a_migration_job_runs_before_the_workers() -> None:
    [job] = of_kind("Job")
    [container] = pod(job)["containers"]
    assert container["args"] == ["db", "upgrade"]
    assert pod(job)["restartPolicy"] in ("OnFailure", "Never")
    for name, doc in deployments().items():
        [init] = pod(doc)["initContainers"]
        assert init["args"][:2] == ["health", "--wait"], name  # waits until the Job has migrated


def test_the_c2pa_signing_secret_is_mounted_and_used_by_every_deployment() -> None:
    for name, doc in deployments().items():
        volumes = {v["name"]: v for v in pod(doc)["volumes"]}
        secret_volumes = [v for v in volumes.values() if "secret" in v]
        assert [v["secret"]["secretName"] for v in secret_volumes] == ["clipdesk-c2pa"], name
        container = main_container(doc)
        mounts = {m["name"]: m for m in container["volumeMounts"]}
        mount = mounts[secret_volumes[0]["name"]]
        assert mount["mountPath"] == C2PA_MOUNT and mount["readOnly"] is True
        env = {e["name"]: e["value"] for e in container["env"]}
        assert env["CLIPDESK_C2PA_CERT_CHAIN"].startswith(C2PA_MOUNT + "/")
        assert env["CLIPDESK_C2PA_PRIVATE_KEY"].startswith(C2PA_MOUNT + "/")
        assert env["CLIPDESK_C2PA_DEV_KEYS"] == "false"


def test_the_shared_media_claim_is_read_write_many_with_a_storage_class_note() -> None:
    [claim] = of_kind("PersistentVolumeClaim")
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    text = (DEPLOY / "k8s" / "clipdesk.yaml").read_text()
    assert "storageClassName" in text
    assert "ReadWriteMany" in (DEPLOY / "k8s" / "README.md").read_text()


# ---------------------------------------------------------------------- image


def dockerfile() -> str:
    return (DEPLOY / "Dockerfile").read_text()


def test_the_image_creates_the_data_folder_owned_by_uid_10001() -> None:
    text = dockerfile()
    final = text[text.rindex("\nFROM ") :]  # the runtime stage
    assert re.search(r"useradd[^\n]*--uid 10001", final)
    assert re.search(rf"install -d -o clipdesk -g clipdesk[^\n]* {re.escape(DATA)}", final)
    assert re.search(r"^USER 10001", final, re.MULTILINE)
    assert f"CLIPDESK_DATA_DIR={DATA}" in final


def test_the_image_health_check_works_for_workers_too() -> None:
    [healthcheck] = [line for line in dockerfile().splitlines() if line.startswith("HEALTHCHECK")]
    assert "/healthz" not in healthcheck  # a worker serves no HTTP
    assert healthcheck.endswith('CMD ["clipdesk", "health"]')


@pytest.mark.parametrize("pattern", [".venv", ".git", ".clipdesk", ".env"])
def test_dockerignore_keeps_local_state_out_of_the_build_context(pattern: str) -> None:
    lines = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()]
    assert pattern in lines


def test_the_license_file_is_the_apache_license_pyproject_names() -> None:
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text and "APPENDIX: How to apply the Apache License" in text
    assert 'license = "Apache-2.0"' in (ROOT / "pyproject.toml").read_text()
