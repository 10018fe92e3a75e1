"""The signature a receiver checks: pure functions, no database."""
import hashlib
import hmac

import pytest

from webhooks.signing import signature_header, verify_signature

SECRET = "s3cret-for-tests"
BODY = b'{"id":"e1","type":"contact.at_risk","data":{"email":"ay\xc5\x9fe@example.com"}}'
T = 1_760_000_000


def test_the_header_is_t_and_the_hmac_of_t_dot_body():
    expected = hmac.new(SECRET.encode(), f"{T}.".encode() + BODY, hashlib.sha256).hexdigest()

    assert signature_header(SECRET, BODY, T) == f"t={T},v1={expected}"


def test_a_genuine_signature_verifies():
    assert verify_signature(SECRET, signature_header(SECRET, BODY, T), BODY, 300, now=T + 10)


def test_a_wrong_secret_fails():
    assert not verify_signature("another", signature_header(SECRET, BODY, T), BODY, 300, now=T)


def test_a_tampered_body_fails():
    tampered = BODY.replace(b"at_risk", b"at_riskX")

    assert not verify_signature(SECRET, signature_header(SECRET, BODY, T), tampered, 300, now=T)


@pytest.mark.parametrize("now", [T + 301, T - 301])
def test_a_timestamp_outside_the_tolerance_fails(now):
    assert not verify_signature(SECRET, signature_header(SECRET, BODY, T), BODY, 300, now=now)


def test_a_replayed_signature_with_a_new_timestamp_fails():
    _t, v1 = signature_header(SECRET, BODY, T).split(",")

    assert not verify_signature(SECRET, f"t={T + 60},{v1}", BODY, 300, now=T + 60)


@pytest.mark.parametrize("header", ["", "garbage", f"t={T}", "v1=abc", "t=x,v1=abc",
                                    f"t={T},v0=abc"])
def test_malformed_headers_fail(header):
    assert not verify_signature(SECRET, header, BODY, 300, now=T)


def test_any_of_several_v1_values_may_match():
    good = signature_header(SECRET, BODY, T).split(",")[1]

    assert verify_signature(SECRET, f"t={T},v1=deadbeef,{good}", BODY, 300, now=T)


def test_text_and_bytes_bodies_verify_alike():
    text = BODY.decode()

    assert verify_signature(SECRET, signature_header(SECRET, text, T), BODY, 300, now=T)


def test_the_receiver_example_in_the_docs_agrees():
    from pathlib import Path

    doc = Path(__file__).resolve().parents[2] / "docs" / "integrations-webhooks.md"
    example = doc.read_text().split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict = {}
    exec(example, namespace)  # our own documentation
    header = signature_header(SECRET, BODY, T)

    assert namespace["verify_signature"](SECRET, header, BODY, now=T + 5)
    assert not namespace["verify_signature"]("wrong", header, BODY, now=T + 5)
    assert not namespace["verify_signature"](SECRET, header, BODY + b" ", now=T + 5)
    assert not namespace["verify_signature"](SECRET, header, BODY, now=T + 301)


@pytest.mark.parametrize("module", ["signing.py", "transport.py", "addresses.py"])
def test_the_signing_and_transport_modules_use_the_standard_library_only(module):
    import ast
    import sys
    from pathlib import Path

    tree = ast.parse((Path(__file__).resolve().parents[1] / module).read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module and not node.level}

    assert imported <= set(sys.stdlib_module_names)
