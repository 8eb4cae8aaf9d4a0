"""Write the OVN-Kubernetes emulation's desired NB content (ovnk.desired_nb) into one node's
Northbound database with ovn-nbctl, as OVN-K's libovsdb ops (pkg/libovsdb/ops/) do: create or
update what differs, delete what it owns and no longer wants. Idempotent: when the database
already matches, only the four reads run and nothing is written.

Owned objects: logical switches with `external_ids:k8s.ovn.org/topology=localnet` (with all their
ports) and port groups with `external_ids:k8s.ovn.org/network` (with their ACLs, which the NB
schema garbage-collects once no port group references them). Everything else is left alone.
`commands()` is pure (current + desired -> ovn-nbctl arguments); `sync()` is the thin shell.
"""
import json
import subprocess

from . import ovnk

LSP_COLUMNS = ("type", "addresses", "port_security", "options", "external_ids", "tag_request")
SET_COLUMNS = {"addresses", "port_security", "tag_request", "ports", "acls"}
OPTIONAL_SCALARS = {"name", "meter", "severity"}


class NbctlError(RuntimeError):
    pass


def nbctl_runner(node_dir, binary="ovn-nbctl"):
    """A function running one ovn-nbctl command line against `node_dir`'s NB socket."""
    def run(args):
        argv = [binary, f"--db=unix:{node_dir}/ovnnb_db.sock", "--timeout=10", *args]
        result = subprocess.run(argv, capture_output=True, text=True)
        if result.returncode != 0:
            raise NbctlError(f"{' '.join(argv[:4])} ... failed ({result.returncode}): {result.stderr.strip()}")
        return result.stdout
    return run


# --- reading --------------------------------------------------------------------------------

def decode(value):
    """An OVSDB JSON value (RFC 7047) as a plain Python value."""
    if isinstance(value, list) and value and value[0] in ("uuid", "named-uuid"):
        return value[1]
    if isinstance(value, list) and value and value[0] == "set":
        return [decode(v) for v in value[1]]
    if isinstance(value, list) and value and value[0] == "map":
        return {decode(k): decode(v) for k, v in value[1]}
    return value


def normalize(column, value):
    if column in SET_COLUMNS:
        return value if isinstance(value, list) else [value]
    if column in OPTIONAL_SCALARS:
        return None if value == [] else value
    return value


def read_table(run, table):
    """(column names, rows as dicts) of `ovn-nbctl --format=json list TABLE`."""
    listing = json.loads(run(["--format=json", "list", table]))
    headings = listing["headings"]
    return headings, [{h: normalize(h, decode(v)) for h, v in zip(headings, row)} for row in listing["data"]]


def current_nb(run):
    """The owned part of the database in ovnk.NodeNB's shape (plus UUIDs) and the ACL columns."""
    _, switch_rows = read_table(run, "Logical_Switch")
    _, port_rows = read_table(run, "Logical_Switch_Port")
    _, group_rows = read_table(run, "Port_Group")
    acl_columns, acl_rows = read_table(run, "ACL")
    ports = {row["_uuid"]: row for row in port_rows}
    acls = {row["_uuid"]: row for row in acl_rows}
    switches = {}
    for row in switch_rows:
        if row["external_ids"].get(ovnk.TOPOLOGY_KEY) != ovnk.LOCALNET:
            continue
        switches[row["name"]] = {
            "external_ids": row["external_ids"], "other_config": row["other_config"],
            "ports": {ports[u]["name"]: {c: ports[u][c] for c in LSP_COLUMNS} for u in row["ports"] if u in ports}}
    groups = {}
    for row in group_rows:
        if ovnk.NETWORK_KEY not in row["external_ids"]:
            continue
        group_acls, extra = {}, []
        for uuid in row["acls"]:
            acl = acls[uuid]
            key = acl["external_ids"].get(ovnk.PRIMARY_ID_KEY)
            if key is None or key in group_acls:
                extra.append(uuid)
            else:
                group_acls[key] = {**{c: acl[c] for c in acl_columns if c != "_uuid"}, "_uuid": uuid}
        groups[row["name"]] = {"external_ids": row["external_ids"], "ports": sorted(
            ports[u]["name"] for u in row["ports"] if u in ports), "acls": group_acls, "extra_acls": extra}
    return ovnk.NodeNB(switches, groups, []), [c for c in acl_columns if c != "_uuid"]


# --- writing (pure) ---------------------------------------------------------------------------

def atom(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(value)


def datum(value):
    """A column value in ovn-nbctl's `column=value` syntax."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{atom(k)}={atom(v)}" for k, v in sorted(value.items())) + "}"
    if isinstance(value, list):
        return "[" + ",".join(atom(v) for v in value) + "]"
    if value is None:
        return "[]"
    return atom(value)


def assignments(desired, current, columns):
    return [f"{c}={datum(desired[c])}" for c in columns if current is None or desired[c] != current.get(c)]


def acl_fields(acl, columns):
    """The desired ACL limited to the columns this NB schema has (OVN 23.03 has no `tier`)."""
    return {c: acl.get(c) for c in columns}


def switch_commands(desired, current):
    commands = []
    for name in sorted(set(current) - set(desired)):
        commands.append(["ls-del", name])
    for name, switch in sorted(desired.items()):
        now = current.get(name)
        if now is None:
            commands.append(["ls-add", name])
        changed = assignments(switch, now, ("external_ids", "other_config"))
        if changed:
            commands.append(["set", "Logical_Switch", name, *changed])
        now_ports = (now or {}).get("ports", {})
        for port in sorted(set(now_ports) - set(switch["ports"])):
            commands.append(["lsp-del", port])
        for port, lsp in sorted(switch["ports"].items()):
            if port not in now_ports:
                commands.append(["lsp-add", name, port])
            changed = assignments(lsp, now_ports.get(port), LSP_COLUMNS)
            if changed:
                commands.append(["set", "Logical_Switch_Port", port, *changed])
    return commands


def group_commands(desired, current, acl_columns):
    commands = []
    for name in sorted(set(current) - set(desired)):
        commands.append(["pg-del", name])
    for name, group in sorted(desired.items()):
        now = current.get(name)
        if now is None:
            commands.append(["pg-add", name, *group["ports"]])
            commands.append(["set", "Port_Group", name, f"external_ids={datum(group['external_ids'])}"])
        else:
            if group["external_ids"] != now["external_ids"]:
                commands.append(["set", "Port_Group", name, f"external_ids={datum(group['external_ids'])}"])
            if group["ports"] != now["ports"]:
                commands.append(["pg-set-ports", name, *group["ports"]] if group["ports"]
                                else ["clear", "Port_Group", name, "ports"])
        now_acls = (now or {}).get("acls", {})
        stale = [now_acls[key]["_uuid"] for key in sorted(set(now_acls) - set(group["acls"]))]
        for uuid in stale + (now or {}).get("extra_acls", []):
            commands.append(["remove", "Port_Group", name, "acls", uuid])
        for key, acl in sorted(group["acls"].items()):
            wanted = acl_fields(acl, acl_columns)
            if key in now_acls:
                changed = assignments(wanted, now_acls[key], acl_columns)
                if changed:
                    commands.append(["set", "ACL", now_acls[key]["_uuid"], *changed])
                continue
            handle = f"@acl{len(commands)}"
            commands.append([f"--id={handle}", "create", "ACL",
                             *(f"{c}={datum(v)}" for c, v in wanted.items() if v is not None)])
            commands.append(["add", "Port_Group", name, "acls", handle])
    return commands


def commands(desired, current, acl_columns):
    """ovn-nbctl commands turning `current` into `desired` (switches and ports first, so the
    port groups can name new ports)."""
    return switch_commands(desired.switches, current.switches) + \
        group_commands(desired.port_groups, current.port_groups, acl_columns)


def join(command_list):
    """One ovn-nbctl invocation (one transaction) for all commands."""
    argv = []
    for command in command_list:
        argv += (["--"] if argv else []) + command
    return argv


# --- shell ------------------------------------------------------------------------------------

def sync(run, desired):
    """Make the database `run` talks to hold `desired`; returns the commands written ([] if none)."""
    current, acl_columns = current_nb(run)
    todo = commands(desired, current, acl_columns)
    if todo:
        run(join(todo))
    return todo
