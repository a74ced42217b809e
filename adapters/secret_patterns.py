"""The shapes of secrets that name themselves: provider tokens, private key blocks, passwords
given to well-known commands. ``adapters.redact`` uses them alongside its key-name rules.

The provider token shapes come from detect-secrets (its plugins' ``denylist`` patterns, kept up
to date there as providers change formats); what it does not know, or knows only in a form
that needs the surrounding code (private key blocks cut short, passwords on command lines), is
written here.
"""

from __future__ import annotations

import functools
import re

# Characters a token is made of: a match is widened over them, so a detector that recognises
# a token by its prefix (or a JWT by its first two parts) masks the whole token.
_TOKEN_TAIL = r"[A-Za-z0-9_\-.+/=~]*"


def _token_detectors() -> list[re.Pattern[str]]:
    """detect-secrets' patterns for tokens recognisable without context (no key name)."""
    from detect_secrets.plugins.aws import AWSKeyDetector
    from detect_secrets.plugins.azure_storage_key import AzureStorageKeyDetector
    from detect_secrets.plugins.discord import DiscordBotTokenDetector
    from detect_secrets.plugins.github_token import GitHubTokenDetector
    from detect_secrets.plugins.gitlab_token import GitLabTokenDetector
    from detect_secrets.plugins.jwt import JwtTokenDetector
    from detect_secrets.plugins.mailchimp import MailchimpDetector
    from detect_secrets.plugins.openai import OpenAIDetector
    from detect_secrets.plugins.pypi_token import PypiTokenDetector
    from detect_secrets.plugins.sendgrid import SendGridDetector
    from detect_secrets.plugins.slack import SlackDetector
    from detect_secrets.plugins.square_oauth import SquareOAuthDetector
    from detect_secrets.plugins.stripe import StripeDetector
    from detect_secrets.plugins.twilio import TwilioKeyDetector

    patterns: list[re.Pattern[str]] = [AWSKeyDetector.denylist[0]]  # the key id; [1] needs code
    for detector in (AzureStorageKeyDetector, DiscordBotTokenDetector, GitHubTokenDetector,
                     GitLabTokenDetector, JwtTokenDetector, MailchimpDetector, OpenAIDetector,
                     PypiTokenDetector, SendGridDetector, SlackDetector, SquareOAuthDetector,
                     StripeDetector, TwilioKeyDetector):
        patterns.extend(detector.denylist)
    return patterns


# Shapes detect-secrets has no detector for.
_OWN_TOKENS = (
    r"github_pat_[A-Za-z0-9_]{22,}",  # GitHub fine-grained personal access tokens
    r"(?:sk|rk|pk)_(?:live|test)_[0-9a-zA-Z]{16,}",  # Stripe keys of any length
    r"AIza[0-9A-Za-z_\-]{35}",  # Google API keys
    r"hv[sb]\.[A-Za-z0-9_\-]{24,}",  # HashiCorp Vault tokens
    r"npm_[A-Za-z0-9]{36}",  # npm access tokens
    r"sha256~[A-Za-z0-9_\-]{20,}",  # OpenShift OAuth tokens
)


@functools.cache
def token_pattern() -> re.Pattern[str]:
    """One pattern for every self-identifying token (made on first use: it imports plugins)."""
    branches = []
    for pattern in _token_detectors():
        flags = "i" if pattern.flags & re.IGNORECASE else ""
        branch = re.sub(r"\(\?P<\w+>", "(?:", pattern.pattern)
        branches.append(f"(?{flags}:{branch})" if flags else f"(?:{branch})")
    branches.extend(f"(?:{own})" for own in _OWN_TOKENS)
    return re.compile(r"(?<![A-Za-z0-9])(?:" + "|".join(branches) + ")" + _TOKEN_TAIL)


# A private key, PGP private key block or SSH2/PuTTY key, up to its END line -- or, when the
# text was cut (``head key.pem``) or the END line is missing, up to the next armour line or the
# end of the text. The BEGIN and END lines stay; what is between them goes.
PRIVATE_KEY_BEGIN = re.compile(
    r"-{4,5} ?BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY( BLOCK)? ?-{4,5}|PuTTY-User-Key-File-\d+:[^\n]*"
)
PRIVATE_KEY_BLOCK = re.compile(
    "(?:" + PRIVATE_KEY_BEGIN.pattern + ")"
    + r"(?:[^-]|-(?!----))*+(-{4,5} ?END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)? ?-{4,5})?"
)
PRIVATE_KEY_END = re.compile(r"-{4,5} ?END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)? ?-{4,5}")
# A line that can be part of a key block's body: base64, an armour header, a blank line.
KEY_BODY_LINE = re.compile(r"[ \t]*(?:[A-Za-z0-9+/=]*|[A-Za-z][\w-]*:[ \t][^\n]*)[ \t\r]*")

# Passwords on command lines: ``mysql -phunter2``, ``mysql -p hunter2``, ``sshpass -p pw``,
# ``redis-cli -a pw``; ``curl -u user:pass``, ``--user=user:pass``.
_PASSWORD_PROGRAMS = r"(?:mysql\w*|mariadb[\w-]*|sshpass|mongo(?:sh|dump|restore)?|redis-cli)"
PROGRAM_PASSWORD = re.compile(
    rf"""(?<![\w-]){_PASSWORD_PROGRAMS}(?=[ \t])[^\n|;&]{{0,200}}?[ \t](-p|-a|--pass(?:word)?(?==))"""
    r"""(=|[ \t]+(?!-))?("[^"\n]*"|'[^'\n]*'|[^\s"']+)"""
)
USER_PASSWORD = re.compile(
    r"""(?<![\w-])(-u|--user|--proxy-user)([ \t]+|=)(["']?)([^\s:"'@/]+):([^\s"']+)"""
)

__all__ = [
    "KEY_BODY_LINE",
    "PRIVATE_KEY_BEGIN",
    "PRIVATE_KEY_BLOCK",
    "PRIVATE_KEY_END",
    "PROGRAM_PASSWORD",
    "USER_PASSWORD",
    "token_pattern",
]
