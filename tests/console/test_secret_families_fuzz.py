"""Property: a secret of any common family, inside arbitrary surrounding text, never reaches the
audit file, the screen (ScreenRedactor) or a command's streamed output."""

from __future__ import annotations

import base64
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.redact import LineRedactor
from console.domain.actor import Actor
from console.domain.audit import AuditLog
from console.ui.screen_text import ScreenRedactor

ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
B64 = ALNUM + "+/"
# Surrounding text without digits: every generated secret holds digits, so the noise can never
# contain it by chance, and without quotes or backslashes (JSON would escape them in the file).
NOISE = st.text(alphabet="abcdefghij klmnop.,:;()[]-_\n\t", max_size=40)
SEPARATOR = st.sampled_from([" ", "\n", "\t", " | ", ", ", "; "])


def _chars(alphabet: str, size: int) -> st.SearchStrategy[str]:
    return st.text(alphabet=alphabet, min_size=size, max_size=size)


def _with_digits(alphabet: str, size: int) -> st.SearchStrategy[str]:
    return st.tuples(_chars(alphabet, size - 3), _chars("0123456789", 3)).map("".join)


@st.composite
def family(draw: st.DrawFn) -> tuple[str, list[str]]:
    """(text carrying the secret, the secret parts that must not survive)."""
    kind = draw(st.sampled_from([
        "jwt", "aws", "mysql-attached", "mysql-spaced", "curl-user", "pass", "pwd", "db-pass",
        "passphrase", "docker-auth", "github", "slack", "gitlab", "stripe", "amz-signature",
        "pgp", "pem-truncated", "pem",
    ]))
    password = draw(_with_digits(ALNUM + "!%^*_+", 12))
    if kind == "jwt":
        parts = [draw(_with_digits(ALNUM + "_-", 24)) for _ in range(3)]
        return f"eyJ{parts[0]}.eyJ{parts[1]}.{parts[2]}", parts
    if kind == "aws":
        key = "AKIA" + draw(_with_digits("ABCDEFGHIJKLMNOPQRSTUVWXYZ", 16))
        return key, [key]
    if kind == "mysql-attached":
        return f"mysql -u root -p{password} shop", [password]
    if kind == "mysql-spaced":
        return f"mysqldump -h db -u app -p {password} shop", [password]
    if kind == "curl-user":
        return f"curl -fsS -u deploy:{password} https://example.com/x", [password]
    if kind in ("pass", "pwd"):
        return f"{kind}={password}", [password]
    if kind == "db-pass":
        return f"DB_PASS={password}", [password]
    if kind == "passphrase":
        return f"passphrase: {password} and more words", [password]
    if kind == "docker-auth":
        auth = base64.b64encode(f"deploy:{password}".encode()).decode()
        return '{"auths":{"registry.example.com":{"auth":"' + auth + '"}}}', [auth]
    if kind == "github":
        token = "ghp_" + draw(_with_digits(ALNUM, 36))
        return token, [token[4:]]
    if kind == "slack":
        tail = draw(_with_digits("abcdefghijklmnopqrstuvwxyz", 24))
        return f"xoxb-1234567890-9876543210-{tail}", [tail]
    if kind == "gitlab":
        token = draw(_with_digits(ALNUM + "_-", 20))
        return f"glpat-{token}", [token]
    if kind == "stripe":
        token = draw(_with_digits(ALNUM, 24))
        return f"sk_live_{token}", [token]
    if kind == "amz-signature":
        signature = draw(_with_digits("0123456789abcdef", 64))
        return (f"https://b.s3.amazonaws.com/o?X-Amz-Algorithm=AWS4-HMAC-SHA256"
                f"&X-Amz-Signature={signature}"), [signature]
    body = [draw(_with_digits(B64, 64)) for _ in range(draw(st.integers(1, 4)))]
    if kind == "pgp":
        return ("-----BEGIN PGP PRIVATE KEY BLOCK-----\nVersion: GnuPG v2\n\n" + "\n".join(body)
                + "\n-----END PGP PRIVATE KEY BLOCK-----"), body
    if kind == "pem-truncated":
        return "-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(body), body
    return ("-----BEGIN PRIVATE KEY-----\n" + "\n".join(body) + "\n-----END PRIVATE KEY-----"),\
        body


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(secret=family(), before=NOISE, after=NOISE, left=SEPARATOR, right=SEPARATOR)
def test_no_secret_reaches_the_audit_file_the_screen_or_streamed_output(
        secret: tuple[str, list[str]], before: str, after: str, left: str, right: str) -> None:
    carrier, parts = secret
    text = before + left + carrier + right + after
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "audit.jsonl"
        log = AuditLog(path, actor=Actor(user="alice", console_id="c1"), extra_secrets=())
        log.append("shell.output", message=text, params={"output": text, "argv": [text]})
        recorded = path.read_text(encoding="utf-8")
    shown = ScreenRedactor(env={})(text)
    redactor = LineRedactor()
    streamed = "\n".join(line for line in map(redactor, text.split("\n")) if line is not None)
    for part in parts:
        assert part not in recorded
        assert part not in shown
        assert part not in streamed
