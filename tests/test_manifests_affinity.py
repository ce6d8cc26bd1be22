"""schedlab.traces.manifests: pod (anti-)affinity, topology spread constraints, Services,
Namespaces and controller selectors, read, checked and written back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schedlab.errors import InputError
from schedlab.fields import DNS1123_LABEL
from schedlab.matching import label_selector_matches
from schedlab.objects import (
    ApiObjects,
    Container,
    LabelSelector,
    LabelSelectorRequirement,
    OwnerRef,
    Pod,
    PodAffinity,
    PodAffinityTerm,
    PodTemplate,
    Service,
    TopologySpreadConstraint,
    WeightedPodAffinityTerm,
    Workload,
)
from schedlab.traces import dump_manifests, load_manifests
from schedlab.traces.manifests import SELECTOR_KINDS, SUPPORTED_KINDS

REQUIRED = "requiredDuringSchedulingIgnoredDuringExecution"
PREFERRED = "preferredDuringSchedulingIgnoredDuringExecution"
HOST = "kubernetes.io/hostname"
ZONE = "topology.kubernetes.io/zone"


def load(tmp_path: Path, text: str, name: str = "in.yaml") -> Workload:
    path = tmp_path / name
    path.write_text(text)
    return load_manifests(path)


def pod(name: str, spec: str = "{}", metadata: str = "") -> str:
    """A Pod document; a flow-style ``spec`` without containers gets one (the API server
    refuses a pod without containers)."""
    spec = with_container(spec)
    return f"apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}{metadata}}}\nspec: {spec}\n---\n"


def with_container(spec: str) -> str:
    """A flow-style pod spec, with a container when it names none."""
    if spec.startswith("{") and "containers" not in spec:
        return "{containers: [{name: c}]" + (", " if spec.strip() != "{}" else "") + spec[1:]
    return spec


def controller(kind: str, name: str, spec: str, namespace: str = "team") -> str:
    api = "batch/v1" if kind == "Job" else "apps/v1"
    return (
        f"apiVersion: {api}\nkind: {kind}\nmetadata: {{name: {name}, namespace: {namespace}}}\n"
        f"spec: {spec}\n---\n"
    )


def service(name: str, spec: str = "{}", namespace: str = "team") -> str:
    return (
        f"apiVersion: v1\nkind: Service\nmetadata: {{name: {name}, namespace: {namespace}}}\n"
        f"spec: {spec}\n---\n"
    )


def namespace(name: str, labels: str = "{}") -> str:
    return f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {name}, labels: {labels}}}\n---\n"


def template(labels: str = "{app: web}", spec: str = "{}") -> str:
    return f"template: {{metadata: {{labels: {labels}}}, spec: {with_container(spec)}}}"


# --- reading ---------------------------------------------------------------------------------

POD = f"""
apiVersion: v1
kind: Pod
metadata: {{name: web, namespace: shop, labels: {{app: web}}}}
spec:
  affinity:
    podAffinity:
      {REQUIRED}:
      - labelSelector:
          matchExpressions: [{{key: app, operator: In, values: [cache, db]}}]
        namespaces: [shop, data]
        topologyKey: {ZONE}
      {PREFERRED}:
      - weight: 30
        podAffinityTerm:
          labelSelector: {{}}
          namespaceSelector: {{matchLabels: {{env: prod}}}}
          topologyKey: {HOST}
    podAntiAffinity:
      {REQUIRED}:
      - {{labelSelector: {{matchLabels: {{app: web}}}}, topologyKey: {HOST}}}
      - {{topologyKey: {ZONE}, namespaceSelector: {{}}}}
  topologySpreadConstraints:
  - maxSkew: 1
    topologyKey: {ZONE}
    whenUnsatisfiable: DoNotSchedule
    labelSelector: {{matchLabels: {{app: web}}}}
    minDomains: 3
    matchLabelKeys: [pod-template-hash]
    nodeAffinityPolicy: Ignore
    nodeTaintsPolicy: Honor
  - {{maxSkew: 4, topologyKey: {HOST}, whenUnsatisfiable: ScheduleAnyway}}
  containers: [{{name: c}}]
"""


def test_pod_affinity_anti_affinity_and_spread_constraints(tmp_path: Path) -> None:
    (web,) = load(tmp_path, POD).pods
    t = web.template
    assert t.pod_affinity == PodAffinity(
        required=(
            PodAffinityTerm(
                ZONE,
                LabelSelector(match_expressions=(
                    LabelSelectorRequirement("app", "In", ("cache", "db")),
                )),
                ("shop", "data"),
            ),
        ),
        preferred=(
            WeightedPodAffinityTerm(
                30, PodAffinityTerm(HOST, LabelSelector(), (), LabelSelector({"env": "prod"}))
            ),
        ),
    )
    assert t.pod_anti_affinity == PodAffinity(
        required=(
            PodAffinityTerm(HOST, LabelSelector({"app": "web"})),
            PodAffinityTerm(ZONE, None, (), LabelSelector()),
        )
    )
    assert t.topology_spread_constraints == (
        TopologySpreadConstraint(
            max_skew=1,
            topology_key=ZONE,
            when_unsatisfiable="DoNotSchedule",
            label_selector=LabelSelector({"app": "web"}),
            min_domains=3,
            match_label_keys=("pod-template-hash",),
            node_affinity_policy="Ignore",
            node_taints_policy="Honor",
        ),
        TopologySpreadConstraint(4, HOST, "ScheduleAnyway"),
    )
    assert t.has_pod_affinity


@pytest.mark.parametrize(("affinity", "expected"), [
    ("{}", (None, None)),
    ("{nodeAffinity: {}}", (None, None)),
    ("{podAffinity: {}}", (PodAffinity(), None)),
    ("{podAntiAffinity: {}, podAffinity: null}", (None, PodAffinity())),
])
def test_absent_pod_affinity_is_none_and_empty_counts(
    tmp_path: Path, affinity: str, expected: tuple[object, object]
) -> None:
    (p,) = load(tmp_path, pod("p", f"{{affinity: {affinity}}}")).pods
    assert (p.template.pod_affinity, p.template.pod_anti_affinity) == expected
    assert p.template.has_pod_affinity == (expected != (None, None))
    assert p.template.topology_spread_constraints == ()


def test_controller_templates_carry_the_new_fields(tmp_path: Path) -> None:
    spec = (
        "{affinity: {podAntiAffinity: {" + REQUIRED + ": [{topologyKey: zone, labelSelector: "
        "{matchLabels: {app: web}}}]}}, topologySpreadConstraints: [{maxSkew: 2, "
        "topologyKey: zone, whenUnsatisfiable: ScheduleAnyway}]}"
    )
    text = controller("Deployment", "web", f"{{replicas: 2, {template(spec=spec)}}}")
    a, b = load(tmp_path, text).pods
    assert a.template is b.template
    assert a.template.pod_anti_affinity == PodAffinity(
        (PodAffinityTerm("zone", LabelSelector({"app": "web"})),)
    )
    assert a.template.topology_spread_constraints == (
        TopologySpreadConstraint(2, "zone", "ScheduleAnyway"),
    )


def test_services_and_namespaces_in_any_file_and_lists(tmp_path: Path) -> None:
    listing = {"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "db"},
         "spec": {"selector": {"app": "db"}, "ports": [{"port": 5432}]}},
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "data"}},
    ]}
    (tmp_path / "a.yaml").write_text(
        namespace("team", "{env: prod, tier: fe}") + service("web", "{selector: {app: web}}")
        + pod("p")
    )
    (tmp_path / "b.json").write_text(json.dumps(listing))
    (tmp_path / "c.yaml").write_text(service("headless", "{clusterIP: None}")
                                     + service("all", "{selector: {}}"))
    workload = load_manifests(tmp_path)
    assert [p.key for p in workload.pods] == ["default/p"]
    assert workload.objects == ApiObjects(
        namespaces={"team": {"env": "prod", "tier": "fe"}, "data": {}},
        services=(
            Service("web", "team", {"app": "web"}),
            Service("db", "default", {"app": "db"}),
            Service("headless", "team", None),
            Service("all", "team", {}),
        ),
    )
    assert workload.objects.namespace_labels("team") == {
        "env": "prod", "tier": "fe", "kubernetes.io/metadata.name": "team"
    }
    assert SUPPORTED_KINDS["Service"] == SUPPORTED_KINDS["Namespace"] == "v1"


def test_controller_selectors(tmp_path: Path) -> None:
    explicit = (
        "{replicas: 1, selector: {matchLabels: {app: web}, matchExpressions: "
        "[{key: tier, operator: In, values: [fe, be]}]}, "
        + template("{app: web, tier: fe, extra: x}") + "}"
    )
    text = (
        controller("Deployment", "web", explicit)
        + controller("ReplicaSet", "rs", f"{{replicas: 0, {template('{app: rs, v: one}')}}}")
        + controller("StatefulSet", "db", f"{{{template('{}')}}}", namespace="data")
        + controller("Job", "batch", f"{{selector: {{matchLabels: {{a: b}}}}, {template()}}}")
        + controller("DaemonSet", "agent", f"{{selector: {{matchLabels: {{x: y}}}}, "
                                           f"{template()}}}")
    )
    workload = load(tmp_path, text)
    assert [p.key for p in workload.pods] == ["team/web-0", "data/db-0", "team/batch-0"]
    assert dict(workload.objects.controllers) == {
        ("Deployment", "team", "web"): LabelSelector(
            {"app": "web"}, (LabelSelectorRequirement("tier", "In", ("fe", "be")),)
        ),
        # absent: matchLabels of the template's labels, even when these are empty
        ("ReplicaSet", "team", "rs"): LabelSelector({"app": "rs", "v": "one"}),
        ("StatefulSet", "data", "db"): LabelSelector(),
    }


def test_same_controller_name_in_other_namespace_or_kind_is_fine(tmp_path: Path) -> None:
    idle = f"{{replicas: 0, {template()}}}"
    text = (
        controller("Deployment", "web", idle) + controller("Deployment", "web", idle, "other")
        + controller("StatefulSet", "web", idle)
        + service("web") + service("web", namespace="other")
    )
    objects = load(tmp_path, text).objects
    assert len(objects.controllers) == 3 and len(objects.services) == 2


# --- bad input -------------------------------------------------------------------------------


def pod_spec(spec: str) -> str:
    return pod("p", spec)


def anti(term: str) -> str:
    return pod_spec(f"{{affinity: {{podAntiAffinity: {{{REQUIRED}: [{term}]}}}}}}")


def preferred(item: str) -> str:
    return pod_spec(f"{{affinity: {{podAffinity: {{{PREFERRED}: [{item}]}}}}}}")


def spread(*constraints: str) -> str:
    return pod_spec(f"{{topologySpreadConstraints: [{', '.join(constraints)}]}}")


def deployment(spec: str) -> str:
    return controller("Deployment", "web", spec)


ANTI = f"spec.affinity.podAntiAffinity.{REQUIRED}[0]"
PREF = f"spec.affinity.podAffinity.{PREFERRED}[0]"
TSC = "spec.topologySpreadConstraints"
OK = "maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule"
LABEL_KEY = "a valid label key (an optional DNS subdomain prefix and '/', then at most 63 "
LABEL_VALUE = "a valid label value (at most 63 characters"

BAD_INPUTS = [
    # (manifests, the object named, field, value as shown, the start of what was expected)
    pytest.param(anti("{labelSelector: {}}"), "Pod default/p", f"{ANTI}.topologyKey", "None",
                 LABEL_KEY, id="term-without-topology-key"),
    pytest.param(anti("{topologyKey: 'my key'}"), "Pod default/p", f"{ANTI}.topologyKey",
                 "'my key'", LABEL_KEY, id="term-topology-key-invalid"),
    pytest.param(anti("{topologyKey: z, labelSelector: {matchLabels: {app: 'a b'}}}"),
                 "Pod default/p", f"{ANTI}.labelSelector.matchLabels.app", "'a b'",
                 LABEL_VALUE, id="term-match-labels-value"),
    pytest.param(anti("{topologyKey: z, labelSelector: {matchExpressions: "
                      "[{key: app, operator: Gt, values: ['1']}]}}"),
                 "Pod default/p", f"{ANTI}.labelSelector.matchExpressions[0].operator", "'Gt'",
                 "one of In, NotIn, Exists, DoesNotExist", id="term-operator-gt"),
    pytest.param(anti("{topologyKey: z, labelSelector: {matchExpressions: "
                      "[{key: app, operator: In}]}}"),
                 "Pod default/p", f"{ANTI}.labelSelector.matchExpressions[0].values", "None",
                 "at least one value for operator In", id="term-in-without-values"),
    pytest.param(anti("{topologyKey: z, namespaceSelector: {matchExpressions: "
                      "[{key: env, operator: Exists, values: [a]}]}}"),
                 "Pod default/p", f"{ANTI}.namespaceSelector.matchExpressions[0].values",
                 "['a']", "no values for operator Exists", id="namespace-selector-exists-values"),
    pytest.param(anti("{topologyKey: z, namespaces: [team, 3]}"), "Pod default/p",
                 f"{ANTI}.namespaces[1]", "3", DNS1123_LABEL, id="term-namespace"),
    pytest.param(anti("{topologyKey: z, labelSelector: {}, matchLabelKeys: [version]}"),
                 "Pod default/p", f"{ANTI}.matchLabelKeys", "['version']",
                 "no matchLabelKeys (schedlab does not model", id="term-match-label-keys"),
    pytest.param(anti("{topologyKey: z, mismatchLabelKeys: [tenant]}"), "Pod default/p",
                 f"{ANTI}.mismatchLabelKeys", "['tenant']", "no mismatchLabelKeys",
                 id="term-mismatch-label-keys"),
    pytest.param(preferred("{weight: 0, podAffinityTerm: {topologyKey: z}}"), "Pod default/p",
                 f"{PREF}.weight", "0", "an integer in 1..100", id="weight-zero"),
    pytest.param(preferred("{weight: 101, podAffinityTerm: {topologyKey: z}}"), "Pod default/p",
                 f"{PREF}.weight", "101", "an integer in 1..100", id="weight-101"),
    pytest.param(preferred("{podAffinityTerm: {topologyKey: z}}"), "Pod default/p",
                 f"{PREF}.weight", "None", "an integer in 1..100", id="weight-missing"),
    pytest.param(preferred("{weight: 5}"), "Pod default/p", f"{PREF}.podAffinityTerm", "None",
                 "a pod affinity term", id="preferred-without-term"),
    pytest.param(pod_spec("{affinity: {podAffinity: [a]}}"), "Pod default/p",
                 "spec.affinity.podAffinity", "['a']", "a mapping", id="pod-affinity-list"),
    pytest.param(spread("{topologyKey: zone, whenUnsatisfiable: DoNotSchedule}"),
                 "Pod default/p", f"{TSC}[0].maxSkew", "None", "an integer in 1..2147483647",
                 id="max-skew-missing"),
    pytest.param(spread("{maxSkew: 0, topologyKey: zone, whenUnsatisfiable: DoNotSchedule}"),
                 "Pod default/p", f"{TSC}[0].maxSkew", "0",
                 "an integer in 1..2147483647", id="max-skew-zero"),
    pytest.param(spread("{maxSkew: 1, whenUnsatisfiable: DoNotSchedule}"), "Pod default/p",
                 f"{TSC}[0].topologyKey", "None", LABEL_KEY, id="spread-topology-key-missing"),
    pytest.param(spread("{maxSkew: 1, topologyKey: zone}"), "Pod default/p",
                 f"{TSC}[0].whenUnsatisfiable", "None", "one of DoNotSchedule, ScheduleAnyway",
                 id="when-unsatisfiable-missing"),
    pytest.param(spread(f"{{{OK}, minDomains: 0}}"), "Pod default/p", f"{TSC}[0].minDomains",
                 "0", "an integer in 1..2147483647", id="min-domains-zero"),
    pytest.param(spread("{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: ScheduleAnyway, "
                        "minDomains: 2}"),
                 "Pod default/p", f"{TSC}[0].minDomains", "2",
                 "no minDomains with whenUnsatisfiable ScheduleAnyway", id="min-domains-anyway"),
    pytest.param(spread(f"{{{OK}, matchLabelKeys: [app]}}"), "Pod default/p",
                 f"{TSC}[0].matchLabelKeys", "['app']",
                 "no matchLabelKeys without a labelSelector", id="match-label-keys-no-selector"),
    pytest.param(spread(f"{{{OK}, labelSelector: {{matchLabels: {{app: a}}}}, "
                        "matchLabelKeys: [hash, app]}"),
                 "Pod default/p", f"{TSC}[0].matchLabelKeys[1]", "'app'",
                 "a key that labelSelector does not also name", id="match-label-keys-overlap"),
    pytest.param(spread(f"{{{OK}, nodeAffinityPolicy: Always}}"), "Pod default/p",
                 f"{TSC}[0].nodeAffinityPolicy", "'Always'", "one of Honor, Ignore",
                 id="node-affinity-policy"),
    pytest.param(spread(f"{{{OK}, nodeTaintsPolicy: honor}}"), "Pod default/p",
                 f"{TSC}[0].nodeTaintsPolicy", "'honor'", "one of Honor, Ignore",
                 id="node-taints-policy"),
    pytest.param(spread(f"{{{OK}}}", "{maxSkew: 1, topologyKey: zone, "
                        "whenUnsatisfiable: ScheduleAnyway}",
                        "{maxSkew: 3, topologyKey: zone, whenUnsatisfiable: DoNotSchedule}"),
                 "Pod default/p", f"{TSC}[2]",
                 "{'topologyKey': 'zone', 'whenUnsatisfiable': 'DoNotSchedule'}",
                 "a {topologyKey, whenUnsatisfiable} pair no other constraint has "
                 f"({TSC}[0] has it)", id="repeated-pair"),
    pytest.param(deployment(f"{{selector: {{matchLabels: {{app: db}}}}, {template()}}}"),
                 "Deployment team/web", "spec.template.metadata.labels", "{'app': 'web'}",
                 "labels that spec.selector matches", id="selector-does-not-match"),
    pytest.param(deployment(f"{{selector: {{matchLabels: {{app: web}}}}, {template('null')}}}"),
                 "Deployment team/web", "spec.template.metadata.labels", "None",
                 "labels that spec.selector matches", id="selector-without-template-labels"),
    pytest.param(deployment(f"{{selector: {{}}, {template()}}}"), "Deployment team/web",
                 "spec.selector", "{}", "a non-empty selector (an empty one is invalid for a "
                 "Deployment)", id="selector-empty"),
    pytest.param(deployment(f"{{selector: {{matchLabels: {{'a b': c}}}}, {template()}}}"),
                 "Deployment team/web", "spec.selector.matchLabels.a b", "'a b'", LABEL_KEY,
                 id="selector-bad-key"),
    pytest.param(deployment(f"{{selector: app=web, {template()}}}"), "Deployment team/web",
                 "spec.selector", "'app=web'", "a mapping", id="selector-string"),
    pytest.param(deployment(f"{{replicas: 0, {template()}}}") * 2, "Deployment team/web",
                 "metadata.name", "'web'", "a name no other Deployment in namespace team has "
                 "(first seen in ", id="same-controller"),
    pytest.param(service("web") + service("web"), "Service team/web", "metadata.name",
                 "'team/web'", "a namespace/name no other Service has (first seen in ",
                 id="same-service"),
    pytest.param(namespace("team") + namespace("team", "{a: b}"), "Namespace team",
                 "metadata.name", "'team'", "a name no other Namespace has (first seen in ",
                 id="same-namespace"),
    pytest.param("apiVersion: v1\nkind: Namespace\nmetadata: {labels: {a: b}}\n",
                 "document 1: Namespace",
                 "metadata.name", "None", DNS1123_LABEL, id="namespace-without-name"),
    pytest.param(service("web", "{selector: {app: [web]}}"), "Service team/web",
                 "spec.selector.app", "['web']", LABEL_VALUE, id="service-selector-value"),
    pytest.param(service("web", "{selector: app=web}"), "Service team/web", "spec.selector",
                 "'app=web'", "a mapping", id="service-selector-string"),
    pytest.param("apiVersion: apps/v1\nkind: Service\nmetadata: {name: s}\n", "document 1",
                 "apiVersion", "'apps/v1'", "v1 (the apiVersion of Service)",
                 id="service-api-version"),
]


@pytest.mark.parametrize(("text", "obj", "field", "value", "expected"), BAD_INPUTS)
def test_bad_input_names_file_object_field_value_and_expectation(
    tmp_path: Path, text: str, obj: str, field: str, value: str, expected: str
) -> None:
    with pytest.raises(InputError) as caught:
        load(tmp_path, text, "bad.yaml")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{tmp_path / 'bad.yaml'}: {obj}: {field}: got {value}, "
                              f"expected {expected}"), message


def test_duplicates_across_files_name_the_first_file(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(service("web") + namespace("team"))
    (tmp_path / "b.yaml").write_text(service("web"))
    with pytest.raises(InputError, match=r"b\.yaml: Service team/web: .*first seen in .*a\.yaml"):
        load_manifests(tmp_path)


# --- writing ---------------------------------------------------------------------------------


def kinds(text: str) -> list[str]:
    return [d["kind"] for d in yaml.safe_load_all(text)]


def test_dump_orders_kinds_and_prunes_defaults(tmp_path: Path) -> None:
    text = (
        pod("p", "{topologySpreadConstraints: [{maxSkew: 1, topologyKey: zone, "
                 "whenUnsatisfiable: DoNotSchedule, minDomains: 1, nodeAffinityPolicy: Honor, "
                 "nodeTaintsPolicy: Ignore, matchLabelKeys: []}]}")
        + service("web", "{selector: {app: web}}") + namespace("b") + namespace("a", "{x: y}")
        + controller("StatefulSet", "db", f"{{replicas: 1, {template('{app: db}')}}}")
        + controller("Deployment", "web", f"{{replicas: 0, {template()}}}")
        + "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\n"
    )
    workload = load(tmp_path, text)
    dumped = dump_manifests(workload)
    assert kinds(dumped) == [
        "Namespace", "Namespace", "Node", "Service", "Deployment", "StatefulSet", "Pod", "Pod"
    ]
    docs = list(yaml.safe_load_all(dumped))
    assert [d["metadata"]["name"] for d in docs[:2]] == ["a", "b"]
    assert docs[4] == {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "team"},
        "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "main"}]}}},
    }
    assert docs[6]["spec"]["topologySpreadConstraints"] == [
        {"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"}
    ]
    assert load(tmp_path, dumped, "again.yaml") == workload


def test_dump_keeps_empty_selectors_apart_from_absent_ones(tmp_path: Path) -> None:
    term = PodAffinityTerm("zone", LabelSelector(), (), LabelSelector())
    bare = PodAffinityTerm("zone")
    template = PodTemplate(
        containers=(Container(),),
        pod_affinity=PodAffinity((term,)),
        pod_anti_affinity=PodAffinity(),
        topology_spread_constraints=(
            TopologySpreadConstraint(1, "zone", label_selector=LabelSelector()),
            TopologySpreadConstraint(1, "host", "ScheduleAnyway"),
        ),
    )
    workload = Workload((), (Pod("p", template), Pod("q", PodTemplate(
        containers=(Container(),),
        pod_affinity=PodAffinity(preferred=(WeightedPodAffinityTerm(1, bare),))))),
        ApiObjects(services=(Service("all", selector={}), Service("none"))))
    text = dump_manifests(workload)
    spec = list(yaml.safe_load_all(text))[2]["spec"]
    assert spec["affinity"] == {
        "podAffinity": {REQUIRED: [
            {"labelSelector": {}, "topologyKey": "zone", "namespaceSelector": {}}
        ]},
        "podAntiAffinity": {},
    }
    assert load(tmp_path, text) == workload


def test_controller_template_labels_satisfy_expressions(tmp_path: Path) -> None:
    selector = LabelSelector({"app": "web"}, (
        LabelSelectorRequirement("tier", "In", ("fe", "be")),
        LabelSelectorRequirement("tier", "NotIn", ("be",)),
        LabelSelectorRequirement("track", "Exists"),
        LabelSelectorRequirement("track", "NotIn", ("", "x")),
        LabelSelectorRequirement("canary", "DoesNotExist"),
        LabelSelectorRequirement("legacy", "NotIn", ("yes",)),
    ))
    workload = Workload((), (), ApiObjects(controllers={("ReplicaSet", "ns", "rs"): selector}))
    text = dump_manifests(workload)
    (rs,) = yaml.safe_load_all(text)
    assert rs["spec"]["template"]["metadata"]["labels"] == {
        "app": "web", "tier": "fe", "track": "x1"
    }
    assert load(tmp_path, text) == workload


@pytest.mark.parametrize(("controllers", "expected"), [
    ({("Job", "ns", "j"): LabelSelector({"a": "b"})},
     "workload: objects.controllers[Job ns/j]: kind: got 'Job', expected one of Deployment, "
     "ReplicaSet, StatefulSet"),
    ({("Deployment", "ns", "d"): LabelSelector(match_expressions=(
        LabelSelectorRequirement("a", "In", ("x",)), LabelSelectorRequirement("a", "NotIn", ("x",))
    ))}, "workload: objects.controllers[Deployment ns/d]: selector: got {'matchExpressions': "),
])
def test_dump_refuses_controllers_it_cannot_write_back(
    controllers: dict[tuple[str, str, str], LabelSelector], expected: str
) -> None:
    with pytest.raises(InputError) as caught:
        dump_manifests(Workload((), (), ApiObjects(controllers=controllers)))
    assert str(caught.value).startswith(expected)


# --- round trip ------------------------------------------------------------------------------

NAMES = st.sampled_from(["a", "web", "db-1", "x9"])
NAMESPACES = st.sampled_from(["default", "team", "kube-system"])
KEYS = st.sampled_from(["app", "tier", "app.kubernetes.io/name", "x_y", "k8s.io/a-b", ZONE])
VALUES = st.sampled_from(["", "a", "web", "true", "1", "null", "0x1", "a.b-c_d", "Yes"])
LABELS = st.dictionaries(KEYS, VALUES, max_size=3)


def tuples(elements: st.SearchStrategy, max_size: int = 2, min_size: int = 0) -> st.SearchStrategy:
    return st.lists(elements, min_size=min_size, max_size=max_size).map(tuple)


REQUIREMENTS = st.one_of(
    st.builds(LabelSelectorRequirement, KEYS, st.sampled_from(["In", "NotIn"]),
              tuples(VALUES, 3, min_size=1)),
    st.builds(LabelSelectorRequirement, KEYS, st.sampled_from(["Exists", "DoesNotExist"])),
)
SELECTORS = st.builds(LabelSelector, LABELS, tuples(REQUIREMENTS))
OPTIONAL_SELECTORS = st.none() | SELECTORS
TERMS = st.builds(PodAffinityTerm, KEYS, OPTIONAL_SELECTORS, tuples(NAMESPACES),
                  OPTIONAL_SELECTORS)
POD_AFFINITIES = st.none() | st.builds(
    PodAffinity, tuples(TERMS), tuples(st.builds(WeightedPodAffinityTerm, st.integers(1, 100),
                                                 TERMS))
)
POLICIES = st.sampled_from(["Honor", "Ignore"])


@st.composite
def spread_constraints(draw: st.DrawFn) -> tuple[TopologySpreadConstraint, ...]:
    """Constraints the API server accepts: distinct {topologyKey, whenUnsatisfiable} pairs,
    minDomains only with DoNotSchedule, matchLabelKeys only beside a selector, none of its
    keys."""
    pairs = draw(st.lists(st.tuples(KEYS, st.sampled_from(["DoNotSchedule", "ScheduleAnyway"])),
                          max_size=2, unique=True))
    constraints = []
    for key, when in pairs:
        selector = draw(OPTIONAL_SELECTORS)
        taken = set() if selector is None else {
            *selector.match_labels, *(r.key for r in selector.match_expressions)
        }
        match_keys = () if selector is None else tuple(
            draw(st.lists(KEYS.filter(lambda k, taken=taken: k not in taken), max_size=2))
        )
        constraints.append(TopologySpreadConstraint(
            max_skew=draw(st.integers(1, 2**31 - 1)),
            topology_key=key,
            when_unsatisfiable=when,
            label_selector=selector,
            min_domains=draw(st.integers(1, 5)) if when == "DoNotSchedule" else 1,
            match_label_keys=match_keys,
            node_affinity_policy=draw(POLICIES),
            node_taints_policy=draw(POLICIES),
        ))
    return tuple(constraints)


@st.composite
def controller_selectors(draw: st.DrawFn) -> LabelSelector:
    """Selectors some template's labels satisfy, as the API server requires of a controller:
    built from such labels."""
    labels = draw(LABELS)
    match_labels = {k: v for k, v in labels.items() if draw(st.booleans())}
    expressions = []
    for key in draw(st.lists(KEYS, max_size=3)):
        if key in labels:
            other = draw(VALUES.filter(lambda v, have=labels[key]: v != have))
            expressions.append(draw(st.sampled_from([
                LabelSelectorRequirement(key, "In", (other, labels[key])),
                LabelSelectorRequirement(key, "NotIn", (other,)),
                LabelSelectorRequirement(key, "Exists"),
            ])))
        else:
            expressions.append(draw(st.sampled_from([
                LabelSelectorRequirement(key, "DoesNotExist"),
                LabelSelectorRequirement(key, "NotIn", ("a", "")),
            ])))
    selector = LabelSelector(match_labels, tuple(expressions))
    assert label_selector_matches(selector, labels)
    return selector


OBJECTS = st.builds(
    ApiObjects,
    st.dictionaries(NAMESPACES, LABELS, max_size=2),
    st.lists(st.builds(Service, NAMES, NAMESPACES, st.none() | LABELS), max_size=3,
             unique_by=lambda s: (s.namespace, s.name)).map(tuple),
    st.dictionaries(st.tuples(st.sampled_from(SELECTOR_KINDS), NAMESPACES, NAMES),
                    controller_selectors(), max_size=3),
)
TEMPLATES = st.builds(
    PodTemplate,
    namespace=NAMESPACES,
    labels=LABELS,
    containers=tuples(st.builds(Container, NAMES), 1, min_size=1),
    pod_affinity=POD_AFFINITIES,
    pod_anti_affinity=POD_AFFINITIES,
    topology_spread_constraints=spread_constraints(),
)
OWNERS = st.none() | st.builds(OwnerRef, st.sampled_from(SELECTOR_KINDS), NAMES)


@st.composite
def workloads(draw: st.DrawFn) -> Workload:
    pods = draw(tuples(st.builds(Pod, NAMES, TEMPLATES, OWNERS), 4))
    unique = {p.key: p for p in pods}
    return Workload((), tuple(unique.values()), draw(OBJECTS))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(workload=workloads())
def test_dump_then_load_gives_an_equal_workload(tmp_path: Path, workload: Workload) -> None:
    text = dump_manifests(workload)
    assert dump_manifests(workload) == text
    loaded = load(tmp_path, text, "dumped.yaml")
    assert loaded == workload
    assert dump_manifests(loaded) == text


def test_equal_objects_in_another_order_give_the_same_text() -> None:
    a, b = ("Deployment", "x", "a"), ("StatefulSet", "x", "b")
    first = ApiObjects({"n1": {}, "n2": {"k": "v"}}, (), {a: LabelSelector(), b: LabelSelector()})
    second = ApiObjects({"n2": {"k": "v"}, "n1": {}}, (), {b: LabelSelector(), a: LabelSelector()})
    assert first == second
    assert dump_manifests(Workload((), (), first)) == dump_manifests(Workload((), (), second))
