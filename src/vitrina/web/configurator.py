"""The configurator's controls, read from a product's options in WJ's structure (API.md §4).

Presentation only: which choices to offer comes from the product; whether a combination is valid and what it
costs is the catalog's answer over the configurator socket. Parts this reader does not recognise are left to
the defaults the catalog applies (and its validation names them if they are required).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ENGRAVING = "engraving"


@dataclass(frozen=True, slots=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True, slots=True)
class ChoiceAttribute:
    """One more pick an entry of a choice group asks for (a shape, a carat band, a length...)."""

    name: str
    choices: list[Choice]


@dataclass(frozen=True, slots=True)
class GroupEntry:
    sku: str
    label: str
    attributes: list[ChoiceAttribute]


@dataclass(frozen=True, slots=True)
class ChoiceGroup:
    """A part's choice group in WJ's structure (bridal ``center_stone``, ``side_settings``, ``carving``): pick an
    entry by sku, then each of that entry's own lists."""

    name: str
    entries: list[GroupEntry]


@dataclass(frozen=True, slots=True)
class PartControls:
    name: str
    metals: list[Choice] = field(default_factory=list)
    types: list[Choice] = field(default_factory=list)
    lengths: list[Choice] = field(default_factory=list)
    stone_counts: list[int] = field(default_factory=list)
    stones: list[Choice] = field(default_factory=list)
    groups: list[ChoiceGroup] = field(default_factory=list)

    @property
    def positions(self) -> range:
        return range(1, max(self.stone_counts, default=0) + 1)


@dataclass(frozen=True, slots=True)
class EngravingControls:
    slots: list[tuple[str, int, int]]  # (slot, min chars, max chars)
    fonts: list[Choice]


def _metals(spec: dict[str, Any]) -> list[Choice]:
    choices = []
    for metal in sorted(spec.get("metal") or [], key=lambda m: m.get("sort", 0) if isinstance(m, dict) else 0):
        if not isinstance(metal, dict) or "material_sku" not in metal:
            continue
        title = metal.get("material_title") or metal["material_sku"]
        colors = [c for c in metal.get("color") or [] if isinstance(c, dict) and "sku" in c]
        if not colors:
            choices.append(Choice(str(metal["material_sku"]), str(title)))
        for color in colors:
            choices.append(Choice(f"{metal['material_sku']}|{color['sku']}",
                                  f"{title} {color.get('title') or color['sku']}".strip()))
    return choices


def _stones(spec: dict[str, Any]) -> list[Choice]:
    choices = []
    for stone in spec.get("stone") or []:
        if not isinstance(stone, dict) or "sku" not in stone:
            continue
        label = " ".join(str(part) for part in (stone.get("title"), stone.get("description")) if part)
        value = "|".join(str(stone.get(key) or "") for key in ("sku", "stone_shape", "weight_stone"))
        choices.append(Choice(value, label or str(stone["sku"])))
    return choices


def stone_counts(spec: dict[str, Any]) -> list[int]:
    """Allowed stone counts: WJ's ``stones`` ("1,2-5,9") when given, else 0..``stones_max``."""
    text = spec.get("stones")
    if isinstance(text, str) and text.strip():
        counts: set[int] = set()
        for piece in text.split(","):
            low, _, high = piece.strip().partition("-")
            if low.isdigit() and (not high or high.isdigit()):
                counts.update(range(int(low), int(high or low) + 1))
        return sorted(counts)
    maximum = spec.get("stones_max")
    if isinstance(maximum, int) and maximum > 0 and spec.get("stone"):
        return list(range(0, min(maximum, 20) + 1))
    return []


# Part-spec keys this reader shows with their own controls (or that are pricing inputs, not choices).
OWN_CONTROLS = frozenset({"metal", "stone", "stones", "stones_max", "stones_min", "positions", "types", "length"})


def _attribute_choices(allowed: Any) -> list[Choice]:
    if isinstance(allowed, dict):
        return [Choice(str(key), str(value.get("title") or key) if isinstance(value, dict) else str(key))
                for key, value in allowed.items()]
    return [Choice(str(value), str(value)) for value in allowed if isinstance(value, str | int | float)]


def _groups(spec: dict[str, Any]) -> list[ChoiceGroup]:
    """Every other object of entries keyed by sku is a choice group; an entry's lists and objects are its picks
    (the catalog requires each one, so each gets a control)."""
    groups = []
    for name, group in spec.items():
        if name in OWN_CONTROLS or not isinstance(group, dict) or not group:
            continue
        if not all(isinstance(entry, dict) for entry in group.values()):
            continue
        entries = [GroupEntry(sku=str(entry.get("sku") or key), label=str(entry.get("title") or key),
                              attributes=[ChoiceAttribute(attr, _attribute_choices(allowed))
                                          for attr, allowed in entry.items() if isinstance(allowed, dict | list)])
                   for key, entry in group.items()]
        groups.append(ChoiceGroup(name=str(name), entries=entries))
    return groups


def part_controls(options: dict[str, Any] | None) -> list[PartControls]:
    parts = []
    for name, spec in (options or {}).items():
        if name == ENGRAVING or not isinstance(spec, dict):
            continue
        raw_types = spec.get("types")
        types: dict[str, Any] = raw_types if isinstance(raw_types, dict) else {}
        parts.append(PartControls(
            name=name, metals=_metals(spec),
            types=[Choice(str(key), str(value.get("title") or key) if isinstance(value, dict) else str(key))
                   for key, value in types.items()],
            lengths=[Choice(str(length), f"{length} in") for length in spec.get("length") or []
                     if isinstance(length, int | float | str)],
            stone_counts=stone_counts(spec), stones=_stones(spec), groups=_groups(spec)))
    return [part for part in parts if part.metals or part.types or part.lengths or part.stones or part.groups]


def engraving_controls(options: dict[str, Any] | None) -> EngravingControls | None:
    spec = (options or {}).get(ENGRAVING)
    if not isinstance(spec, dict) or not spec.get("enabled"):
        return None
    fonts = [Choice(str(f["sku"]), str(f.get("title") or f["sku"])) for f in spec.get("fonts") or []
             if isinstance(f, dict) and "sku" in f]
    slots: list[tuple[str, int, int]] = []
    for slot, sizes in (spec.get("options") or {}).items():
        sizes = sizes if isinstance(sizes, dict) else {}
        shown = [s for s in sizes.values() if isinstance(s, dict) and s.get("show")]
        if shown:
            slots.append((str(slot), min(int(s.get("minChar", 0)) for s in shown),
                          max(int(s.get("maxChar", 0)) for s in shown)))
    if not slots:
        slots = [("e0", int(spec.get("min_chars") or 0), int(spec.get("max_chars") or 20))]
    return EngravingControls(slots=slots, fonts=fonts)
