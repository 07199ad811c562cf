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
class PartControls:
    name: str
    metals: list[Choice] = field(default_factory=list)
    types: list[Choice] = field(default_factory=list)
    lengths: list[Choice] = field(default_factory=list)
    stone_counts: list[int] = field(default_factory=list)
    stones: list[Choice] = field(default_factory=list)

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
            stone_counts=stone_counts(spec), stones=_stones(spec)))
    return [part for part in parts if part.metals or part.types or part.lengths or part.stones]


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
