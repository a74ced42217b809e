"""Secret redaction: every credential shape we expect in logs, configs and command output."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.redact import looks_secret_key, redact, redact_obj, secrets_from_env


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Bearer eyJhbGciOi.abc-def", "Authorization: Bearer ***"),
        ("authorization=Basic dXNlcjpwYXNz", "authorization=Basic ***"),
        (
            "curl -H 'Authorization: Bearer abc123' https://x",
            "curl -H 'Authorization: Bearer ***' https://x",
        ),
        ("got Bearer xyz from the server", "got Bearer *** from the server"),
        ("Basic dXNlcjpwYXNz", "Basic ***"),
        ('{"password": "hunter2", "user": "bob"}', '{"password": "***", "user": "bob"}'),
        ('{"token":"a\\"b", "n": 1}', '{"token":"***", "n": 1}'),
        ("{'api_key': 'k-123', 'x': 1}", "{'api_key': '***', 'x': 1}"),
        ("DB_PASSWORD=hunter2 other=1", "DB_PASSWORD=*** other=1"),
        ('export DB_PASSWORD="hunter two"', 'export DB_PASSWORD="***"'),
        ("passwd=abc secret=def apikey=ghi", "passwd=*** secret=*** apikey=***"),
        ("password: correct horse battery staple", "password: ***"),
        ("  client-key-data: LS0tLS1CRUdJTi==", "  client-key-data: ***"),
        ("    client-certificate-data: LS0tLS1CRUdJTi", "    client-certificate-data: ***"),
        ("    token: eyJhbGciOi.x.y", "    token: ***"),
        (
            "https://bob:p%40ss@db.example.com:5432/x?access_token=abc&y=2",
            "https://bob:***@db.example.com:5432/x?access_token=***&y=2",
        ),
        ("redis://:pw@host/0", "redis://:***@host/0"),
        ("kubectl --token=abc get pods", "kubectl --token=*** get pods"),
        ("kubectl --token abc get pods", "kubectl --token *** get pods"),
        ("SIGNING_KEY=abcdef AWS_ACCESS_KEY_ID=AKIA123", "SIGNING_KEY=*** AWS_ACCESS_KEY_ID=***"),
        ("X-Api-Key: 12345", "X-Api-Key: ***"),
        ("Cookie: session=abc; theme=dark", "Cookie: ***"),
        (
            "-----BEGIN RSA PRIVATE KEY-----\nMIIE\nabc\n-----END RSA PRIVATE KEY-----",
            "-----BEGIN RSA PRIVATE KEY-----***-----END RSA PRIVATE KEY-----",
        ),
        ("secret: |\n  line one\n  line two\nnext: 1", "secret: |\n  ***\nnext: 1"),
    ],
)
def test_redacts_secret_shapes(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Basic checks passed",
        "Token expired: please log in again",
        "key: app",
        "cmd --password-file /etc/app/pw",
        "scaled deployment shop/web to 3 replicas",
        "https://example.com:8443/healthz?verbose=1",
    ],
)
def test_leaves_ordinary_text_alone(text: str) -> None:
    assert redact(text) == text


def test_kubeconfig_user_section() -> None:
    kubeconfig = (
        "users:\n"
        "- name: admin\n"
        "  user:\n"
        "    client-certificate-data: Q0VSVA==\n"
        "    client-key-data: S0VZ\n"
        "- name: sa\n"
        "  user:\n"
        "    token: sha256~abcdef\n"
    )
    redacted = redact(kubeconfig)
    for secret in ("Q0VSVA==", "S0VZ", "sha256~abcdef"):
        assert secret not in redacted
    assert "- name: admin" in redacted and "- name: sa" in redacted


def test_extra_secrets_longest_first() -> None:
    text = "values hunter22 and hunter2 appear"
    assert redact(text, ["hunter2", "hunter22"]) == "values *** and *** appear"


def test_redact_is_idempotent_on_its_output() -> None:
    once = redact('password: x  {"token": "y"}  Authorization: Bearer z')
    assert redact(once) == once


@given(
    secret=st.text(
        alphabet=st.characters(
            codec="utf-8", exclude_categories=("Zs", "Cc"), exclude_characters="*"
        ),
        min_size=4,
        max_size=30,
    ),
    before=st.text(max_size=30),
    after=st.text(max_size=30),
)
def test_extra_secret_never_survives(secret: str, before: str, after: str) -> None:
    assert secret not in redact(before + secret + after, [secret])


def test_secrets_from_env() -> None:
    env = {
        "GITHUB_TOKEN": "ghp_abcdef",
        "DB_PASSWORD": "hunter2",
        "aws_secret_access_key": "wJalrXUtnFEMI",
        "SIGNING_KEY": "k3y-value",
        "SHORT_TOKEN": "abc",
        "USE_TOKEN_CACHE": "true",
        "HOME": "/root",
        "PATH": "/usr/bin",
    }
    assert sorted(secrets_from_env(env)) == sorted(
        ["ghp_abcdef", "hunter2", "wJalrXUtnFEMI", "k3y-value"]
    )


def test_looks_secret_key() -> None:
    for name in ("password", "DB_PASSWORD", "--token", "api-key", "clientSecret", "ssh_key"):
        assert looks_secret_key(name), name
    for name in ("name", "key", "replicas", "monkey"):
        assert not looks_secret_key(name), name


def test_redact_obj_nested() -> None:
    record = {
        "action": "shell",
        "params": {
            "password": "hunter2",
            "headers": [{"Authorization": "Bearer abc"}, {"Accept": "text/plain"}],
            "token": None,
            "secret": {"name": "db-creds"},
            "note": "used --token=xyz",
        },
        "args": ("ok", "Bearer q1w2e3"),
        "replicas": 3,
        "from_env": "value hunter-env-1 here",
    }
    redacted = redact_obj(record, extra_secrets=["hunter-env-1"])
    assert redacted == {
        "action": "shell",
        "params": {
            "password": "***",
            "headers": [{"Authorization": "***"}, {"Accept": "text/plain"}],
            "token": None,
            "secret": {"name": "db-creds"},
            "note": "used --token=***",
        },
        "args": ("ok", "Bearer ***"),
        "replicas": 3,
        "from_env": "value *** here",
    }
    assert record["params"]["password"] == "hunter2"  # type: ignore[index]


@pytest.mark.parametrize(
    "text",
    [
        "token" * 40_000,
        "A_KEY" * 40_000,
        "-----BEGIN PRIVATE KEY-----" * 8_000,
        "cookie: a" + " " * 200_000 + "b",
        "password: a" + " " * 200_000 + "b",
        "a://b:" * 40_000,
        "--token " * 40_000,
    ],
    ids=["keywords", "env-keys", "pem", "cookie", "yaml", "urls", "flags"],
)
def test_adversarial_input_stays_fast(text: str) -> None:
    # Audit records and command output are untrusted; a regex that backtracks quadratically
    # would freeze the console. Each of these takes minutes with a naive pattern.
    started = time.perf_counter()
    redact(text)
    assert time.perf_counter() - started < 3
