"""How much of an owner's identity the public verify page shows: enough for the owner to recognise
themselves, not enough for a stranger holding the piece to learn who they are."""

from __future__ import annotations

BULLET = "•"


def _word(word: str) -> str:
    return word[:1] + BULLET * min(max(len(word) - 1, 2), 6)


def mask_owner(owner: str | None) -> str | None:
    """``eleanor.vance@example.com`` → ``e•••••@e••••••.com``; ``Eleanor Vance`` → ``E•••••• V••••``;
    a customer id or wallet-like string keeps its first and last four characters."""
    if not owner:
        return None
    owner = owner.strip()
    if "@" in owner:
        local, _, domain = owner.partition("@")
        name, dot, tld = domain.rpartition(".")
        return f"{_word(local)}@{_word(name) if dot else _word(tld)}{dot}{tld if dot else ''}"
    words = owner.split()
    if len(words) > 1 or not any(ch.isdigit() for ch in owner):
        return " ".join(_word(word) for word in words)
    if len(owner) <= 10:
        return owner[:2] + BULLET * (len(owner) - 2)
    return f"{owner[:4]}{BULLET * 4}{owner[-4:]}"
