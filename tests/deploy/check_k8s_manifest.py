#!/usr/bin/python3
"""Schema and security lint of examples/deploy/kubernetes/nums-cluster.yaml and the Dockerfile.

  check_k8s_manifest.py MANIFEST [--dockerfile DOCKERFILE] [--self-test]

Without a Kubernetes API server (`kubectl apply --dry-run=client` needs one) this checks the
fields each object needs and the security settings the cluster relies on:
  - every document has apiVersion, kind and metadata.name, with the apiVersion of its kind;
  - every pod: automountServiceAccountToken false, runAsNonRoot with a non-zero uid, seccomp
    RuntimeDefault, no host namespaces; every container (init containers too): no privilege
    escalation, a read-only root file system, capabilities drop ALL and add none, cpu and memory
    limits no lower than their requests, volume mounts of declared volumes, and an emptyDir at
    NUMS_HOME and at /tmp where it writes;
  - long-running containers with ports: TCP readiness and liveness probes on a declared port;
  - waiting loops (`until` / `while` in a shell command) end at a deadline (`$SECONDS`, exit 1);
  - a Job has activeDeadlineSeconds and backoffLimit;
  - a NetworkPolicy selects every pod of the file, limits Ingress to sources that are pods of the
    cluster (podSelector only, with the cluster's labels), on the ports the containers declare;
  - Services select pods of the file and target ports they declare;
  - the Dockerfile (with --dockerfile) has several stages, pins every external base image by a
    sha256 digest, installs no compiler or build tool in its last stage, and runs it as a
    non-root user.
--self-test also breaks each of these in a copy of the manifest and checks that the lint notices.
Exits 1 and prints each problem when there are any.
"""

import copy
import re
import sys

import yaml

API_VERSIONS = {
    "Service": "v1",
    "Secret": "v1",
    "ConfigMap": "v1",
    "Deployment": "apps/v1",
    "StatefulSet": "apps/v1",
    "DaemonSet": "apps/v1",
    "Job": "batch/v1",
    "NetworkPolicy": "networking.k8s.io/v1",
}
POD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job"}
LONG_RUNNING = {"Deployment", "StatefulSet", "DaemonSet"}

_UNITS = {"": 1, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
          "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}


def quantity(value):
    """A Kubernetes quantity ("250m", "6Gi", 4) as a number; raises ValueError."""
    m = re.fullmatch(r"([0-9.]+)([a-zA-Z]*)", str(value))
    if not m or m.group(2) not in _UNITS:
        raise ValueError(f"bad quantity {value!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]


def pod_specs(docs):
    """(where, kind, pod template) for each object that makes pods."""
    for doc in docs:
        if doc.get("kind") in POD_KINDS:
            template = (doc.get("spec") or {}).get("template") or {}
            yield f"{doc['kind']}/{doc.get('metadata', {}).get('name')}", doc["kind"], template


def shell_script(container):
    """The script of a `bash -c SCRIPT` / `sh -c SCRIPT` container, or None."""
    words = list(container.get("command") or []) + list(container.get("args") or [])
    for i, w in enumerate(words[:-1]):
        if w == "-c" and i > 0 and re.search(r"(^|/)(ba)?sh$", words[i - 1]):
            return words[i + 1]
    return None


def check_container(where, c, volumes, long_running, problems):
    name = f"{where} container {c.get('name')}"
    if not c.get("image"):
        problems.append(f"{name}: no image")
    sc = c.get("securityContext") or {}
    if sc.get("allowPrivilegeEscalation") is not False:
        problems.append(f"{name}: allowPrivilegeEscalation is not false")
    if sc.get("readOnlyRootFilesystem") is not True:
        problems.append(f"{name}: readOnlyRootFilesystem is not true")
    if sc.get("privileged"):
        problems.append(f"{name}: privileged")
    caps = sc.get("capabilities") or {}
    if "ALL" not in (caps.get("drop") or []):
        problems.append(f"{name}: capabilities do not drop ALL")
    if caps.get("add"):
        problems.append(f"{name}: capabilities added: {caps['add']}")
    if sc.get("runAsUser") == 0 or sc.get("runAsNonRoot") is False:
        problems.append(f"{name}: runs as root")
    if "seccompProfile" in sc and (sc["seccompProfile"] or {}).get("type") != "RuntimeDefault":
        problems.append(f"{name}: seccompProfile is not RuntimeDefault")

    res = c.get("resources") or {}
    limits, requests = res.get("limits") or {}, res.get("requests") or {}
    for r in ("cpu", "memory"):
        if r not in limits:
            problems.append(f"{name}: no {r} limit")
            continue
        try:
            if r in requests and quantity(requests[r]) > quantity(limits[r]):
                problems.append(f"{name}: {r} request above its limit")
        except ValueError as e:
            problems.append(f"{name}: {e}")

    mounts = {}
    for m in c.get("volumeMounts") or []:
        if m.get("name") not in volumes:
            problems.append(f"{name}: mounts undeclared volume {m.get('name')}")
        mounts[m.get("mountPath")] = volumes.get(m.get("name")) or {}
    writable = {e.get("value") for e in c.get("env") or [] if e.get("name") == "NUMS_HOME"}
    writable.add("/tmp")
    for path in sorted(p for p in writable if p):
        if "emptyDir" not in mounts.get(path, {}):
            problems.append(f"{name}: no emptyDir at {path} (the root file system is read-only)")

    ports = {p.get("name"): p.get("containerPort") for p in c.get("ports") or []}
    if long_running and ports:
        for probe in ("readinessProbe", "livenessProbe"):
            p = c.get(probe)
            if not p:
                problems.append(f"{name}: no {probe}")
                continue
            tcp = (p.get("tcpSocket") or {}).get("port")
            if tcp is None:
                problems.append(f"{name}: {probe} is not a TCP probe")
            elif tcp not in ports and tcp not in ports.values():
                problems.append(f"{name}: {probe} port {tcp} is not a declared port")

    script = shell_script(c)
    if script and re.search(r"\b(until|while)\b", script):
        if "SECONDS" not in script or not re.search(r"\bexit [1-9]", script):
            problems.append(f"{name}: a waiting loop without a deadline ($SECONDS ... exit 1)")
    return {p for p in ports.values() if p is not None}


def lint_manifest(docs):
    problems = []
    docs = [d for d in docs if d is not None]
    for i, doc in enumerate(docs):
        kind = doc.get("kind")
        where = f"document {i + 1} ({kind})"
        if not doc.get("apiVersion") or not kind or not (doc.get("metadata") or {}).get("name"):
            problems.append(f"{where}: apiVersion, kind and metadata.name are required")
        elif kind in API_VERSIONS and doc["apiVersion"] != API_VERSIONS[kind]:
            problems.append(f"{where}: apiVersion {doc['apiVersion']}, not {API_VERSIONS[kind]}")

    pod_labels, declared_ports = [], set()
    for where, kind, template in pod_specs(docs):
        labels = (template.get("metadata") or {}).get("labels") or {}
        pod_labels.append((where, labels))
        spec = template.get("spec") or {}
        if not spec.get("containers"):
            problems.append(f"{where}: no containers")
        if spec.get("automountServiceAccountToken") is not False:
            problems.append(f"{where}: automountServiceAccountToken is not false")
        for host in ("hostNetwork", "hostPID", "hostIPC"):
            if spec.get(host):
                problems.append(f"{where}: {host}")
        psc = spec.get("securityContext") or {}
        containers = list(spec.get("initContainers") or []) + list(spec.get("containers") or [])
        for c in containers:
            csc = c.get("securityContext") or {}
            non_root = csc.get("runAsNonRoot", psc.get("runAsNonRoot"))
            uid = csc.get("runAsUser", psc.get("runAsUser"))
            if non_root is not True or uid in (None, 0):
                problems.append(f"{where} container {c.get('name')}: not runAsNonRoot with a uid")
            seccomp = (csc.get("seccompProfile") or psc.get("seccompProfile") or {}).get("type")
            if seccomp != "RuntimeDefault":
                problems.append(f"{where} container {c.get('name')}: seccomp is not RuntimeDefault")
        volumes = {v.get("name"): v for v in spec.get("volumes") or []}
        for c in spec.get("initContainers") or []:
            check_container(where, c, volumes, False, problems)
        for c in spec.get("containers") or []:
            declared_ports |= check_container(where, c, volumes, kind in LONG_RUNNING, problems)
        if kind == "Job":
            job = next(d for d in docs if d.get("kind") == "Job" and
                       f"Job/{d['metadata']['name']}" == where)
            js = job.get("spec") or {}
            if not isinstance(js.get("activeDeadlineSeconds"), int) or js["activeDeadlineSeconds"] <= 0:
                problems.append(f"{where}: no activeDeadlineSeconds")
            if "backoffLimit" not in js:
                problems.append(f"{where}: no backoffLimit")

    def selects(selector, labels):
        return bool(selector) and all(labels.get(k) == v for k, v in selector.items())

    policies = [d for d in docs if d.get("kind") == "NetworkPolicy"]
    if not policies:
        problems.append("no NetworkPolicy")
    for where, labels in pod_labels:
        if not any(selects(((p.get("spec") or {}).get("podSelector") or {}).get("matchLabels"),
                           labels) for p in policies):
            problems.append(f"{where}: no NetworkPolicy selects its pods")
    for p in policies:
        name = f"NetworkPolicy/{p['metadata']['name']}"
        spec = p.get("spec") or {}
        if "Ingress" not in (spec.get("policyTypes") or []):
            problems.append(f"{name}: policyTypes lacks Ingress")
        allowed = set()
        for rule in spec.get("ingress") or []:
            sources = rule.get("from")
            if not sources:
                problems.append(f"{name}: an ingress rule admits every source")
            for src in sources or []:
                if set(src) != {"podSelector"}:
                    problems.append(f"{name}: a source that is not a podSelector: {sorted(src)}")
                    continue
                sel = (src["podSelector"] or {}).get("matchLabels")
                if not sel or not any(selects(sel, labels) for _, labels in pod_labels):
                    problems.append(f"{name}: a source that selects no pod of the cluster")
            for port in rule.get("ports") or []:
                allowed.add(port.get("port"))
            if not rule.get("ports"):
                problems.append(f"{name}: an ingress rule on every port")
        for port in sorted(declared_ports - allowed):
            problems.append(f"{name}: container port {port} is not admitted")

    for s in (d for d in docs if d.get("kind") == "Service"):
        name = f"Service/{s['metadata']['name']}"
        sel = (s.get("spec") or {}).get("selector")
        if not any(selects(sel, labels) for _, labels in pod_labels):
            problems.append(f"{name}: selects no pod of the file")
    return problems


def lint_dockerfile(text):
    problems = []
    lines = re.sub(r"\\\n", " ", text).splitlines()
    args = {}
    stages = []  # (image, alias, [instructions])
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = re.match(r"ARG\s+(\w+)=(\S+)", line)
        if m and not stages:
            args[m.group(1)] = m.group(2)
        m = re.match(r"FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?", line, re.I)
        if m:
            image = re.sub(r"\$\{?(\w+)\}?", lambda a: args.get(a.group(1), a.group(0)), m.group(1))
            stages.append((image, m.group(2), []))
        elif stages:
            stages[-1][2].append(line)
    if len(stages) < 2:
        problems.append("Dockerfile: not multi-stage")
    aliases = {alias for _, alias, _ in stages if alias}
    for image, _, _ in stages:
        if image in aliases:
            continue
        if not re.search(r"@sha256:[0-9a-f]{64}$", image):
            problems.append(f"Dockerfile: base image {image} is not pinned by digest")
    if stages:
        last = " ".join(stages[-1][2])
        if "install-deps.sh" in last:
            problems.append("Dockerfile: the runtime stage runs install-deps.sh (compilers)")
        # Packages named after `apt-get install` (options skipped, up to the next command).
        for m in re.finditer(r"apt(?:-get)?\s+install\s+([^&;|]*)", last):
            for pkg in m.group(1).split():
                if pkg.startswith("-") or pkg.startswith(">"):
                    continue
                if re.fullmatch(r"build-essential|(gcc|g\+\+|clang|cpp)(-[0-9.]+)?|cmake|make|"
                                r"ninja-build|.*-dev", pkg):
                    problems.append(f"Dockerfile: the runtime stage installs {pkg}")
        users = [i.split()[1] for i in stages[-1][2] if i.upper().startswith("USER ")]
        if not users or users[-1].split(":")[0] in ("0", "root"):
            problems.append("Dockerfile: the runtime stage does not run as a non-root USER")
    return problems


def self_test(docs):
    """Each mutation must make the lint complain; returns the mutations it missed."""
    def pods(d):
        return [x["spec"]["template"]["spec"] for x in d if x.get("kind") in POD_KINDS]

    def containers(d):
        return [c for s in pods(d) for c in s.get("initContainers", []) + s["containers"]]

    def first_long_running(d):
        return next(x for x in d if x.get("kind") == "Deployment")["spec"]["template"]["spec"]

    mutations = {
        "automount": lambda d: pods(d)[0].pop("automountServiceAccountToken"),
        "runAsNonRoot": lambda d: containers(d)[2]["securityContext"].update(runAsNonRoot=False),
        "seccomp": lambda d: pods(d)[2]["securityContext"].pop("seccompProfile"),
        "escalation": lambda d: containers(d)[0]["securityContext"].pop("allowPrivilegeEscalation"),
        "readonly root": lambda d: containers(d)[-1]["securityContext"].update(
            readOnlyRootFilesystem=False),
        "capabilities": lambda d: containers(d)[1]["securityContext"]["capabilities"].update(
            drop=[]),
        "limits": lambda d: containers(d)[-1]["resources"].pop("limits"),
        "readiness": lambda d: first_long_running(d)["containers"][0].pop("readinessProbe"),
        "liveness": lambda d: first_long_running(d)["containers"][0].pop("livenessProbe"),
        "state emptyDir": lambda d: [s.update(volumes=[v for v in s["volumes"]
                                                       if v["name"] != "state"])
                                     for s in pods(d)[:1]],
        "deadline": lambda d: next(x for x in d if x.get("kind") == "Job")["spec"].pop(
            "activeDeadlineSeconds"),
        "loop deadline": lambda d: [c.update(command=["bash", "-c",
                                                      "until false; do sleep 2; done"])
                                    for c in pods(d)[1]["initContainers"]],
        "network policy": lambda d: d.remove(next(x for x in d
                                                  if x.get("kind") == "NetworkPolicy")),
        "open ingress": lambda d: next(x for x in d if x.get("kind") == "NetworkPolicy")[
            "spec"]["ingress"][0].pop("from"),
    }
    missed = []
    for name, mutate in mutations.items():
        broken = copy.deepcopy(docs)
        mutate(broken)
        if not lint_manifest(broken):
            missed.append(name)
    bad_docker = ["FROM debian:12\nRUN true\n",
                  "FROM debian:12@sha256:" + "0" * 64 + " AS b\nFROM b\n"
                  "RUN apt-get install -y -qq g++ && true\nUSER 1\n",
                  "FROM debian:12@sha256:" + "0" * 64 + " AS b\nFROM b\nRUN true\n"]
    for text in bad_docker:
        if not lint_dockerfile(text):
            missed.append(f"Dockerfile {text!r}")
    return missed


def main(argv):
    if not argv or argv[0].startswith("-"):
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[0]) as f:
        docs = [d for d in yaml.safe_load_all(f) if d is not None]
    problems = lint_manifest(docs)
    if "--dockerfile" in argv:
        with open(argv[argv.index("--dockerfile") + 1]) as f:
            problems += lint_dockerfile(f.read())
    if "--self-test" in argv:
        problems += [f"self-test: the lint misses a broken {m}" for m in self_test(docs)]
    for p in problems:
        print(p)
    if not problems:
        kinds = ", ".join(d["kind"] for d in docs)
        print(f"{argv[0]}: {len(docs)} objects ({kinds}) pass")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
