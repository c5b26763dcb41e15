"""The secret mask: every form of every inventory secret, from the moment the inventory is loaded."""

from __future__ import annotations

import base64
import io
import json
import logging
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest

from harness.inventory import load
from harness.inventory.models import SnmpSettings
from harness.inventory.secrets import (
    MASK,
    MASK_TEXT,
    MaskedStream,
    SecretMask,
    basic_auth_forms,
    mask_log_records,
    register_references,
    text_forms,
)
from harness.transports.snmp import localized_keys
from tests.conftest import REPO, make_test_lab


def encodings(value: str) -> dict[str, str]:
    """``value`` as a device or a protocol may show it, computed here independently of the mask."""
    data = value.encode()
    return {
        "raw": value,
        "hex": data.hex(),
        "HEX": data.hex().upper(),
        "colon hex": ":".join(f"{b:02x}" for b in data),
        "base64": base64.b64encode(data).decode(),
        "base64 unpadded": base64.b64encode(data).decode().rstrip("="),
        "urlsafe base64": base64.urlsafe_b64encode(data).decode(),
        "url-encoded": urllib.parse.quote(value, safe=""),
        "json": json.dumps(value)[1:-1],
    }


VALUE = "s3cr3t/pa ss+wörd&\"x"


@pytest.mark.parametrize("form", list(encodings(VALUE)))
def test_each_form_is_masked_inside_other_text(form: str) -> None:
    mask = SecretMask()
    mask.add(VALUE)
    shown = encodings(VALUE)[form]
    out = mask(f"interface Gi1/0/1 description <{shown}> end")
    assert shown not in out and out == f"interface Gi1/0/1 description <{MASK_TEXT}> end"


@pytest.mark.parametrize("offset", [0, 1, 2, 5])
def test_a_secret_inside_a_longer_base64_text_is_masked(offset: int) -> None:
    """Wherever the secret starts in the encoded bytes (an HTTP Basic credential of any user, a blob)."""
    mask = SecretMask()
    mask.add(VALUE)
    blob = base64.b64encode(b"u" * offset + VALUE.encode() + b" and more bytes after it").decode()
    out = mask(blob)
    assert MASK_TEXT in out
    # what is left around the mask is what the bytes before and after the secret decide, and one
    # character on either side that mixes their bits with the secret's
    left, right = out.split(MASK_TEXT)
    assert len(left) <= offset * 8 // 6 + 1
    assert len(right.rstrip("=")) <= len(base64.b64encode(b" and more bytes after it").rstrip(b"=")) + 1


def test_http_basic_credential_is_masked_whole() -> None:
    mask = SecretMask()
    mask.add_basic("provision", "tw-prov-bd92f62bed96")
    token = base64.b64encode(b"provision:tw-prov-bd92f62bed96").decode()
    assert mask(f"Authorization: Basic {token}\r\n") == f"Authorization: Basic {MASK_TEXT}\r\n"
    assert basic_auth_forms("provision", "tw-prov-bd92f62bed96") >= {token}


def test_short_values_and_short_forms_leave_ordinary_text_alone() -> None:
    mask = SecretMask()
    mask.add("ab")  # too short to mask at all
    mask.add("abc")  # masked as written; its encodings (6 hex digits, 4 base64 characters) are not
    assert mask("ab cd abc 616263 YWJj") == f"ab cd {MASK_TEXT} 616263 YWJj"
    assert all(len(f) >= 8 for f in text_forms("abc") - {"abc"})


def test_longest_form_wins_and_many_secrets_stay_fast() -> None:
    mask = SecretMask()
    values = [f"tw-{i:04d}-{i * 7919:08x}" for i in range(400)]
    for v in values:
        mask.add(v)
    mask.add("tw-0001")  # a prefix of another secret
    text = " ".join(f"{v} {v.encode().hex()}" for v in values) * 20
    out = mask(text)
    assert out.count(MASK_TEXT) == 2 * 400 * 20 and "tw-" not in out


def test_snmpv3_localized_keys_are_pysnmps_and_rfc3414s() -> None:
    """RFC 3414 A.3.1 and A.3.2: password "maplesyrup", engine ID 00…02."""
    engine = bytes.fromhex("000000000000000000000002")
    for proto, want in (("MD5", "526f5eed9fcce26f8964c2930787d82b"),
                        ("SHA", "6695febc9288e36282235fc7151f128497b38f3f")):
        s = SnmpSettings(version="3", user="u", auth_protocol=proto, auth_key="env:A", priv_protocol="AES",
                         priv_key="env:P")
        keys = [k.hex() for k in localized_keys(s, "maplesyrup", "maplesyrup", engine)]
        assert want in keys
        mask = SecretMask()
        for k in localized_keys(s, "maplesyrup", "maplesyrup", engine):
            mask.add_key(k)
        colon = ":".join(want[i:i + 2] for i in range(0, len(want), 2))
        shown = f"usmUserAuthKey 0x{want} / {colon.upper()} end"
        assert mask(shown) == f"usmUserAuthKey 0x{MASK_TEXT} / {MASK_TEXT} end"


def test_loading_an_inventory_registers_every_secret_it_references(tmp_path: Path) -> None:
    """A secret no process used (a group's SIP password, an unused group) is masked from load on."""
    text = (REPO / "lab_inventory.yaml").read_text()
    text = text.replace("groups:\n", "groups:\n  spare:\n    sip:\n      password: file:twin_secrets/spare\n", 1)
    inv = make_test_lab(tmp_path / "lab", text)
    (tmp_path / "lab" / "twin_secrets" / "spare").write_text("spare-never-used-9d1\n")
    code = ("import sys; from harness.inventory import load; from harness.inventory.secrets import MASK; "
            "load(sys.argv[1]); print(MASK(sys.stdin.read()))")
    values = [p.read_text().strip() for p in (tmp_path / "lab" / "twin_secrets").iterdir()
              if f"file:twin_secrets/{p.name}" in text]  # those the inventory references
    shown = "\n".join(f"{name}: {enc}" for v in values for name, enc in encodings(v).items())
    basic = base64.b64encode(b"provision:" + (REPO / "twin_secrets" / "http_password").read_bytes().strip()).decode()
    r = subprocess.run([sys.executable, "-c", code, str(inv)], input=shown + f"\nBasic {basic}\n",
                       capture_output=True, text=True, timeout=60, check=True, cwd=REPO)
    for v in values:
        for name, enc in encodings(v).items():
            assert enc not in r.stdout, (name, v)
    assert f"Basic {MASK_TEXT}" in r.stdout


def test_unresolvable_references_are_skipped_and_still_reported(tmp_path: Path) -> None:
    text = (REPO / "lab_inventory.yaml").read_text().replace("file:twin_secrets/sip_password", "env:HIL_NOT_SET_X")
    inv = make_test_lab(tmp_path / "lab", text)
    assert register_references({"sip": {"password": "env:HIL_NOT_SET_X"}}, tmp_path) == 0
    with pytest.raises(Exception, match="HIL_NOT_SET_X is not set"):
        load(inv)


def test_masked_stream_catches_a_secret_split_over_writes() -> None:
    MASK.add("split-secret-4711")
    out = io.StringIO()
    stream = MaskedStream(out)
    stream.write("a line with split-")
    stream.write("secret-4711 in it\nand a tail split-secret")
    stream.write("-4711")
    stream.flush()
    assert out.getvalue() == f"a line with {MASK_TEXT} in it\nand a tail {MASK_TEXT}"


def test_log_records_are_masked_when_made(caplog: pytest.LogCaptureFixture) -> None:
    MASK.add("logged-secret-0815")
    mask_log_records()
    mask_log_records()  # twice is once
    with caplog.at_level(logging.INFO):
        logging.getLogger("hil.test").info("read %s from the device", "description logged-secret-0815!")
    assert caplog.records[-1].getMessage() == f"read description {MASK_TEXT}! from the device"
