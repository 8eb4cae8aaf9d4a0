"""The shared vocabulary: the '<ns>/<nad>' and '<proto>/<port>[-<end>]' formats and name rules."""
import pytest

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.vocabulary import (
    PortRange,
    dns1123_label_problem,
    dns1123_subdomain_problem,
    format_port,
    parse_nad_ref,
    parse_policy_for,
    parse_port_text,
    parse_traffic,
    split_nad_ref,
)


# --- '<ns>/<nad>' -------------------------------------------------------------------------------

@pytest.mark.parametrize("text, default, expected", [
    ("ns/nad", None, ("ns", "nad")),
    ("nad", "pods-ns", ("pods-ns", "nad")),
    (" ns/nad ", None, ("ns", "nad")),
    ("other/nad", "pods-ns", ("other", "nad")),
])
def test_nad_ref_accepts_qualified_and_defaulted_names(text, default, expected):
    assert parse_nad_ref(text, default) == expected


@pytest.mark.parametrize("text", ["", "nad", "a/b/c", "/nad", "ns/", None, 5])
def test_nad_ref_rejects_bad_names_naming_field_and_value(text):
    assert split_nad_ref(text) is None
    with pytest.raises(MultinetError, match=r"^network: must be '<namespace>/<nad name>'"):
        parse_nad_ref(text)


@pytest.mark.parametrize("annotation, nads", [
    ("net", ("ns/net",)),
    ("other/net", ("other/net",)),
    (" a , other/b ,", ("ns/a", "other/b")),
    ("", ()),
])
def test_policy_for_is_split_as_ovn_k_splits_it(annotation, nads):
    assert parse_policy_for(annotation, "ns") == nads


# --- '<proto>/<port>[-<end>]' -------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("tcp/22", PortRange("TCP", 22, 22)),
    ("UDP/53", PortRange("UDP", 53, 53)),
    (" sctp/8000-8010 ", PortRange("SCTP", 8000, 8010)),
])
def test_port_text_parses_ports_and_ranges(text, expected):
    assert parse_port_text(text) == (expected, None)
    assert format_port(expected.protocol, expected.start, expected.end) == text.strip().lower()


@pytest.mark.parametrize("text, reason", [
    ("tcp/ssh", "named ports are not supported"),
    ("22", "must be '<protocol>/<port>'"),
    ("icmp/8", "protocol must be tcp, udp or sctp"),
    ("tcp/0", "ports must be between 1 and 65535"),
    ("tcp/9000-8000", "port range start must not exceed its end"),
])
def test_port_text_gives_the_reason_it_is_wrong(text, reason):
    parsed, problem = parse_port_text(text)
    assert parsed is None and problem.startswith(reason)


def test_a_range_covers_its_ports_of_its_protocol_only():
    web = PortRange("TCP", 8000, 8010)
    assert web.covers(("TCP", 8000)) and web.covers(("TCP", 8010))
    assert not web.covers(("TCP", 8011)) and not web.covers(("UDP", 8005)) and not web.covers(None)


def test_traffic_is_one_port_or_icmp():
    assert parse_traffic("TCP/22") == ("TCP", 22)
    assert parse_traffic(None) is None
    assert parse_traffic("ICMP") is None
    with pytest.raises(MultinetError, match=r"^port: .*one port, not a range \(got 'tcp/1-2'\)"):
        parse_traffic("tcp/1-2")
    with pytest.raises(MultinetError, match=r"^port: .*must be a string \(got 22\)"):
        parse_traffic(22)


# --- names --------------------------------------------------------------------------------------

def test_name_rules():
    assert dns1123_label_problem("llm-demo") is None
    assert "DNS-1123 label" in dns1123_label_problem("llm.demo")
    assert dns1123_subdomain_problem("llm.demo") is None
    assert "at most 63" in dns1123_label_problem("a" * 64)


def test_the_labels_are_spelled_once():
    """The managed-by and intent label keys are written only in the vocabulary; every other file of
    module_utils, the modules and the filters import them."""
    import pathlib

    from ansible_collections.ocpvirt.multinet.plugins.module_utils.model import vocabulary

    plugins = pathlib.Path(vocabulary.__file__).resolve().parents[2]
    words = ('"' + vocabulary.MANAGED_BY_LABEL + '"', '"' + vocabulary.INTENT_LABEL + '"')
    spelled = sorted("{0}: {1}".format(path.relative_to(plugins), word)
                     for folder in ("module_utils", "modules", "filter")
                     for path in (plugins / folder).rglob("*.py") if path.name != "vocabulary.py"
                     for word in words if word in path.read_text(encoding="utf-8"))
    assert spelled == []
