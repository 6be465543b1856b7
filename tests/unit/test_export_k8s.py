"""Kubernetes and stack exports, checked against the official Kubernetes API models (the `kubernetes`
client: every field must deserialize into its model and come back unchanged, so a misspelt or
misplaced field fails) and read back with PyYAML."""

from __future__ import annotations

import pytest

from gui.builder.export_k8s import (
    Workload,
    compose_stack,
    kubernetes_manifests,
    to_yaml,
    workload_from_container,
    workload_from_service,
    write_exports,
)
from gui.engine.service_spec import ServiceSpec

yaml = pytest.importorskip("yaml")
kubernetes = pytest.importorskip("kubernetes")

LABELS = {"ai-container-studio.protocol": "studio-v1", "ai-container-studio.task": "image-classification",
          "ai-container-studio.port": "8080"}


def check_model(doc: dict, model: str) -> None:
    """``doc`` deserializes into the Kubernetes model and serializes back to the same dict."""
    api = kubernetes.client.ApiClient()
    obj = api._ApiClient__deserialize(doc, model)
    assert api.sanitize_for_serialization(obj) == doc


def service_workload() -> Workload:
    spec = ServiceSpec(name="Digits_Model", image="registry.example/digits:2", replicas=3, cpu_limit=1.5,
                       memory_limit="1g", cpu_reservation=0.5, memory_reservation="256m",
                       constraints=("node.role==worker",), env=(("LOG_LEVEL", "info"), ("TOP_K", "5")),
                       publish_mode="host", published_port=9000).to_api()
    return workload_from_service(spec, LABELS)


def test_service_exports_a_valid_deployment_service_and_inference_service(tmp_path):
    w = service_workload()
    assert (w.name, w.k8s_name, w.replicas, w.port) == ("Digits_Model", "digits-model", 3, 8080)
    k8s, stack = write_exports(w, tmp_path)
    docs = list(yaml.safe_load_all(k8s.read_text()))
    assert docs == kubernetes_manifests(w)  # the YAML writer loses nothing
    assert [d["kind"] for d in docs] == ["Deployment", "Service", "InferenceService"]
    deployment, service, isvc = docs
    check_model(deployment, "V1Deployment")
    check_model(service, "V1Service")
    check_model(isvc["metadata"], "V1ObjectMeta")
    check_model(isvc["spec"]["predictor"]["containers"][0], "V1Container")
    c = deployment["spec"]["template"]["spec"]["containers"][0]
    assert c["readinessProbe"]["httpGet"] == {"path": "/health", "port": 8080}
    assert c["livenessProbe"]["httpGet"]["path"] == "/health"
    assert c["resources"] == {"limits": {"cpu": "1500m", "memory": "1Gi"},
                              "requests": {"cpu": "500m", "memory": "256Mi"}}
    assert c["env"] == [{"name": "LOG_LEVEL", "value": "info"}, {"name": "TOP_K", "value": "5"}]
    assert deployment["spec"]["replicas"] == 3
    assert deployment["metadata"]["labels"]["ai-container-studio.task"] == "image-classification"
    assert deployment["spec"]["selector"]["matchLabels"].items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    assert isvc["apiVersion"] == "serving.kserve.io/v1beta1"
    assert isvc["spec"]["predictor"]["containers"][0]["readinessProbe"]["httpGet"]["path"] == "/v2/health/ready"

    compose = yaml.safe_load(stack.read_text())
    assert compose == compose_stack(w)
    svc = compose["services"]["digits-model"]
    assert svc["deploy"]["replicas"] == 3 and svc["deploy"]["placement"]["constraints"] == ["node.role==worker"]
    assert svc["ports"] == [{"target": 8080, "protocol": "tcp", "mode": "host", "published": 9000}]
    assert svc["environment"] == {"LOG_LEVEL": "info", "TOP_K": "5"}


def test_a_container_exports_one_replica_and_no_inference_service_without_v2():
    inspect = {"Name": "/my-model", "Config": {"Image": "my/model:1", "Env": ["PATH=/usr/bin", "A=1"],
                                              "Labels": {"ai-container-studio.port": "9090"}},
               "HostConfig": {"Memory": 512 << 20, "NanoCpus": 2_000_000_000,
                              "PortBindings": {"9090/tcp": [{"HostIp": "127.0.0.1", "HostPort": "32000"}]}}}
    w = workload_from_container(inspect)
    assert (w.name, w.port, w.published_port, w.env, w.replicas) == ("my-model", 9090, 32000, (("A", "1"),), 1)
    docs = kubernetes_manifests(w)
    assert [d["kind"] for d in docs] == ["Deployment", "Service"]
    check_model(docs[0], "V1Deployment")
    check_model(docs[1], "V1Service")
    assert docs[0]["spec"]["template"]["spec"]["containers"][0]["resources"] == {
        "limits": {"cpu": "2000m", "memory": "512Mi"}}


def test_yaml_writer_quotes_what_yaml_would_misread():
    doc = {"a": "yes", "b": "1.0", "c": "x: y", "d": "", "e": [], "f": {}, "g": [1, "no", {"h": "#x"}], "i": True}
    assert yaml.safe_load(to_yaml(doc)) == doc
