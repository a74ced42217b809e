"""Redaction of the secret shapes a war room meets in command output: provider tokens, bare
JWTs and AWS key ids, passwords on command lines, short key names, private key blocks (also
cut short, also read one line at a time), and credentials a client obtains after connecting."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest
from detect_secrets.plugins.private_key import PrivateKeyDetector

from adapters.kubernetes import KubeClient
from adapters.redact import LineRedactor, redact
from adapters.shell import run_command

JWT = ("eyJhbGciOiJSUzI1NiIsImtpZCI6IkFCQyJ9.eyJpc3MiOiJrdWJlcm5ldGVzL3NlcnZpY2VhY2NvdW50In0."
       "c2lnbmF0dXJlLXZhbHVlLTEyMzQ1Njc4OTA")
PEM_BODY = ("MIIEpAIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun",
            "VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK")


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"created: {JWT} (expires in 1h)", JWT.split(".")[2]),
        (JWT, JWT.split(".")[1]),
        ("key id AKIAIOSFODNN7EXAMPLE in the log", "AKIAIOSFODNN7EXAMPLE"),
        ("mysql -u root -phunter2 shop", "hunter2"),
        ("mysql -h db -u app -p hunter2 shop", "hunter2"),
        ("curl -u deploy:s3cr3t-pw https://x", "s3cr3t-pw"),
        ("curl --user=deploy:s3cr3t-pw https://x", "s3cr3t-pw"),
        ("pass=hunter2 next", "hunter2"),
        ("pwd=hunter2 next", "hunter2"),
        ("DB_PASS=hunter2", "hunter2"),
        ("passphrase: correct horse battery", "correct horse"),
        ('{"auths":{"registry.example.com":{"auth":"ZGVwbG95Omh1bnRlcjI="}}}',
         "ZGVwbG95Omh1bnRlcjI="),
        ("GITHUB=ghp_" + "a1B2c3D4e5" * 3 + "a1B2c3", "a1B2c3D4e5a1B2"),
        ("slack xoxb-1234567890-9876543210-AbCdEfGhIjKlMnOp", "AbCdEfGhIjKlMnOp"),
        ("gitlab glpat-Ab12Cd34Ef56Gh78Ij90", "Ab12Cd34Ef56Gh78Ij90"),
        ("stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc", "4eC39HqLyjWDarjtT1zdp7dc"),
        ("https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature="
         "fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024&y=1", "fe5f80f77d5fa3"),
        ("-----BEGIN PGP PRIVATE KEY BLOCK-----\nVersion: GnuPG v2\n\nlQOYBF0abc123\n=twTO\n"
         "-----END PGP PRIVATE KEY BLOCK-----", "lQOYBF0abc123"),
        ("-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(PEM_BODY) + "\n", PEM_BODY[0]),
        ("-----BEGIN RSA PRIVATE KEY-----\n" + PEM_BODY[0] + "\n-----BEGIN CERTIFICATE-----",
         PEM_BODY[0]),
    ],
    ids=["jwt-after-text", "jwt-bare", "aws-key-id", "mysql-attached", "mysql-spaced",
         "curl-user", "curl-user-equals", "pass", "pwd", "db-pass", "passphrase", "docker-auth",
         "github", "slack", "gitlab", "stripe", "amz-signature", "pgp-block", "truncated-pem",
         "pem-cut-by-next-block"],
)
def test_common_secret_families_are_masked(text: str, secret: str) -> None:
    assert secret not in redact(text)


@pytest.mark.parametrize("marker", [p.pattern for p in PrivateKeyDetector.denylist])
def test_every_private_key_marker_detect_secrets_knows_hides_its_body(marker: str) -> None:
    text = f"-----{marker}-----\n{PEM_BODY[0]}\n-----END{marker[5:]}-----"
    if marker.startswith("PuTTY"):
        text = f"{marker}: ssh-rsa\nEncryption: none\nPrivate-Lines: 1\n{PEM_BODY[0]}\n"
    assert PEM_BODY[0] not in redact(text)


@pytest.mark.parametrize(
    "text",
    ["tests passed: 12", "author: bob", "mkdir -p /tmp/x", "ssh -p 2222 host",
     "PWD=/srv/app", "bypass=cache", "Signal: SIGTERM"],
)
def test_near_misses_stay_readable(text: str) -> None:
    assert redact(text) == text


def test_line_by_line_keeps_a_private_key_hidden() -> None:
    redactor = LineRedactor()
    lines = ["reading key.pem", "-----BEGIN RSA PRIVATE KEY-----", *PEM_BODY,
             "-----END RSA PRIVATE KEY-----", "done."]
    shown = [redactor(line) for line in lines]
    assert shown == ["reading key.pem", "-----BEGIN RSA PRIVATE KEY-----***", None, None,
                     "-----END RSA PRIVATE KEY-----", "done."]


def test_line_by_line_hides_a_key_cut_short_with_output_after_it() -> None:
    redactor = LineRedactor()
    assert redactor("-----BEGIN EC PRIVATE KEY-----") == "-----BEGIN EC PRIVATE KEY-----***"
    assert redactor(PEM_BODY[0][:40] + " done") == "*** done"
    redactor = LineRedactor()
    redactor("-----BEGIN EC PRIVATE KEY-----")
    assert redactor(PEM_BODY[0] + " : exit 0") == "*** : exit 0"


def test_line_by_line_masks_a_yaml_block_secret() -> None:
    redactor = LineRedactor()
    lines = ["data:", "  secret: |", "    first line", "    second line", "  name: db"]
    assert [redactor(line) for line in lines] == ["data:", "  secret: |", "    ***", None,
                                                   "  name: db"]


async def test_cat_of_a_key_file_shows_no_key_body(tmp_path: Path) -> None:
    key = tmp_path / "key.pem"
    key.write_text("-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(PEM_BODY)
                   + "\n-----END RSA PRIVATE KEY-----\n")
    seen: list[str] = []
    result = await run_command(["cat", str(key)], timeout_s=10,
                               on_line=lambda _stream, line: seen.append(line))
    assert result.ok
    for body in PEM_BODY:
        assert all(body not in line for line in seen + list(result.output_tail))
    assert seen[0] == "-----BEGIN RSA PRIVATE KEY-----***"


def test_a_token_refreshed_after_connect_is_masked(tmp_path: Path) -> None:
    # An exec credential plugin that hands out a new, already expired token each call: it runs
    # again before each request (adapters/kube_exec.py), long after connect.
    counter = tmp_path / "count"
    counter.write_text("0")
    plugin = tmp_path / "plugin.py"
    plugin.write_text(textwrap.dedent(f"""\
        import json, pathlib
        path = pathlib.Path({str(counter)!r})
        n = int(path.read_text()) + 1
        path.write_text(str(n))
        print(json.dumps({{"apiVersion": "client.authentication.k8s.io/v1beta1",
                          "kind": "ExecCredential",
                          "status": {{"token": f"exec-refreshed-token-{{n}}-q9w8e7r6",
                                     "expirationTimestamp": "2000-01-01T00:00:00Z"}}}}))
        """))
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(textwrap.dedent(f"""\
        apiVersion: v1
        kind: Config
        current-context: c
        clusters: [{{name: k, cluster: {{server: "https://127.0.0.1:9"}}}}]
        contexts: [{{name: c, context: {{cluster: k, user: u}}}}]
        users:
        - name: u
          user:
            exec:
              apiVersion: client.authentication.k8s.io/v1beta1
              command: {sys.executable}
              args: [{str(plugin)!r}]
              interactiveMode: Never
        """))
    kube = KubeClient.connect(str(kubeconfig), "c")
    try:
        kube.authenticate()  # what every request does first
        kube.authenticate()  # the next request: the token expired, the plugin runs again
        fresh = f"exec-refreshed-token-{counter.read_text()}-q9w8e7r6"
        assert int(counter.read_text()) >= 2  # a token after the first one
        assert fresh not in redact(f"proxy echoed: Authorization: x {fresh}")
        assert fresh not in LineRedactor()(f"debug: using {fresh}")
    finally:
        kube.close()
