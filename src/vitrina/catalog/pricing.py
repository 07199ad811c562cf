"""The configuration engine: validate a configuration against a product's options and price it.

Pure functions over plain data (the product's ``options`` JSON and a ``PriceBook`` loaded once per request), so
pricing a configuration never queries the database per stone or per option. Every bad choice is collected with
its JSON path, so the caller sees the first and every other mistake at once.

Option structure (WJ's, see docs/catalog.md): ``options`` maps part names (``pendant``, ``chain``, ``ring``,
``head``, ``shank``, ...) to part specs; ``engraving`` and ``size`` are not parts. A part spec may hold
``metal`` (choices with colours), ``stone`` (offered stones) with ``stones_max``/``stones_min``/``positions``,
``types``, ``length``, pricing inputs (``metal_weight_g`` in the ``reference_metal`` alloy, ``labor``) and
choice groups (any other object keyed by sku, e.g. the bridal ``center_stone``, ``side_settings``, ``carving``).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from vitrina.core.errors import ValidationFailed
from vitrina.core.money import quantize

NOT_PARTS = frozenset({"engraving", "size"})
# Part-spec keys that are settings, not choices a configuration makes.
PART_SETTINGS = frozenset({"metal", "stone", "stones", "stones_max", "stones_min", "positions", "types", "length",
                           "metal_weight_g", "reference_metal", "labor", "required", "title", "sort", "image"})
DEFAULT_REFERENCE_METAL = "f"  # WJ's 14K gold: the alloy most parts are weighed in
NO_STONE = "no"
MAX_STONES = 200
MAX_TEXT = 200
_CANDIDATE_CAP = 500
_MICRO = Decimal("0.000001")


@dataclass(frozen=True, slots=True)
class MetalCost:
    sku: str
    title: str
    cost_per_gram: Decimal
    currency: str
    density: Decimal
    purity: Decimal


@dataclass(frozen=True, slots=True)
class StoneCost:
    material_sku: str
    cost: Decimal
    currency: str


@dataclass(slots=True)
class PriceBook:
    """An organization's price tables, indexed for the engine (keys case-folded)."""

    metals: dict[str, MetalCost] = field(default_factory=dict)
    stones: dict[tuple[str, str, str, str], StoneCost] = field(default_factory=dict)
    rates: dict[str, Decimal] = field(default_factory=dict)  # currency -> value of one unit in USD

    def convert(self, amount: Decimal, source: str, target: str) -> Decimal:
        if source == target:
            return amount
        return amount * self.rates.get(source, Decimal(1)) / self.rates.get(target, Decimal(1))

    def stone(self, material: str, shape: str, weight: str, quality: str) -> StoneCost | None:
        return self.stones.get((_key(material), _key(shape), _key(weight), _key(quality)))


@dataclass(slots=True)
class Priced:
    canonical: dict[str, Any]
    size: str | None
    lines: list[dict[str, Any]]
    subtotal: Decimal
    markup: Decimal
    retail: Decimal
    currency: str

    def breakdown(self) -> dict[str, Any]:
        return {"currency": self.currency, "lines": self.lines, "subtotal": _plain_decimal(self.subtotal),
                "markup": _plain_decimal(self.markup), "retail": format(self.retail, "f"), "tier": None}


class _Problems:
    def __init__(self) -> None:
        self.errors: list[dict[str, Any]] = []

    def add(self, path: str, message: str) -> None:
        self.errors.append({"path": path, "message": message})


@dataclass(slots=True)
class _Context:
    book: PriceBook
    currency: str
    problems: _Problems
    lines: list[dict[str, Any]]


# --- small helpers -------------------------------------------------------------------------------------------

def _key(value: Any) -> str:
    return str(value).strip().casefold()


def _plain_decimal(value: Decimal) -> str:
    text = format(value.quantize(Decimal("0.000001")).normalize(), "f")
    return text


def _decimal(value: Any, default: Decimal = Decimal(0)) -> Decimal:
    if value is None or isinstance(value, bool):
        return default
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        return default
    return result if result.is_finite() else default


def _entries(collection: Any, key: str = "sku") -> list[tuple[str, Any]]:
    """(sku, entry) pairs of a spec collection: a list of objects with ``key``, of plain values, or an object
    keyed by sku."""
    pairs: list[tuple[str, Any]] = []
    if isinstance(collection, dict):
        for sku, entry in collection.items():
            inner = entry.get(key, entry.get("sku")) if isinstance(entry, dict) else None
            pairs.append((str(inner if inner is not None else sku), entry))
    elif isinstance(collection, list):
        for entry in collection:
            if isinstance(entry, dict):
                inner = entry.get(key, entry.get("sku"))
                if inner is not None:
                    pairs.append((str(inner), entry))
            elif isinstance(entry, str | int | float) and not isinstance(entry, bool):
                pairs.append((str(entry), entry))
    elif isinstance(collection, str | int | float) and not isinstance(collection, bool):
        pairs.append((str(collection), collection))
    return pairs


def _find(collection: Any, value: Any, key: str = "sku") -> tuple[str, Any] | None:
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        return None
    wanted = _key(value)
    for sku, entry in _entries(collection, key):
        if _key(sku) == wanted:
            return sku, entry
    numeric = _decimal(value, Decimal("NaN")) if not isinstance(value, str) or value.strip() else Decimal("NaN")
    if numeric.is_finite():
        for sku, entry in _entries(collection, key):
            if _decimal(sku, Decimal("NaN")) == numeric:
                return sku, entry
    return None


def _choices_text(collection: Any, key: str = "sku") -> str:
    names = [sku for sku, _ in _entries(collection, key)]
    return ", ".join(names[:20]) or "none"


def _line(ctx: _Context, part: str, item: str, amount: Decimal, **detail: Any) -> None:
    # Each term is kept to 6 places (a millionth of a unit), so the subtotal is exactly the sum of the terms
    # shown; the only rounding to the currency happens once, on the marked-up total.
    ctx.lines.append({"part": part, "item": item, **detail, "amount": amount.quantize(_MICRO, ROUND_HALF_UP)})


# --- validation and pricing ----------------------------------------------------------------------------------

def evaluate(options: dict[str, Any], configuration: Any, size: Any, *, book: PriceBook, currency: str,
             markup: Decimal, base: str = "$.configuration") -> Priced:
    """Validate ``configuration`` against ``options`` and price it; ``ValidationFailed`` lists every problem."""
    problems = _Problems()
    ctx = _Context(book=book, currency=currency, problems=problems, lines=[])
    canonical: dict[str, Any] = {}
    if not isinstance(configuration, dict):
        problems.add(base, "must be an object of parts")
        raise ValidationFailed(problems.errors)
    for name, value in configuration.items():
        spec = options.get(name) if name not in ("size",) else None
        if name == "engraving":
            engraving = _engraving(options.get("engraving"), value, f"{base}.engraving", ctx)
            if engraving:
                canonical["engraving"] = engraving
        elif not isinstance(spec, dict) or name in NOT_PARTS:
            parts = ", ".join(_parts(options)) or "none"
            problems.add(f"{base}.{name}", f"not a part of this product (parts: {parts})")
        else:
            canonical[name] = _part(name, spec, value, f"{base}.{name}", ctx)
    for name in _parts(options):
        if name not in configuration and options[name].get("required", True) not in (False, 0):
            problems.add(f"{base}.{name}", "required")
    size_text = _size(options.get("size"), size, problems)
    if problems.errors:
        raise ValidationFailed(problems.errors, message="The configuration does not match the product's options.")
    subtotal = sum((line["amount"] for line in ctx.lines), Decimal(0))
    retail = quantize(subtotal * markup, currency)
    for line in ctx.lines:
        line["amount"] = _plain_decimal(line["amount"])
    return Priced(canonical=canonical, size=size_text, lines=ctx.lines, subtotal=subtotal, markup=markup,
                  retail=retail, currency=currency)


def _parts(options: dict[str, Any]) -> list[str]:
    return [name for name, spec in options.items() if name not in NOT_PARTS and isinstance(spec, dict)]


def _size(spec: Any, size: Any, problems: _Problems) -> str | None:
    if size is None or (isinstance(size, str) and not size.strip()):
        if isinstance(spec, dict) and spec.get("required"):
            problems.add("$.size", "required")
        return None
    value = _decimal(size, Decimal("NaN")) if not isinstance(size, bool) else Decimal("NaN")
    if not value.is_finite():
        problems.add("$.size", "must be a number")
        return None
    if isinstance(spec, dict):
        values = spec.get("values")
        if isinstance(values, list) and values and _find(values, size) is None:
            problems.add("$.size", f"not offered (sizes: {_choices_text(values)})")
        low, high = _decimal(spec.get("min"), Decimal("-Infinity")), _decimal(spec.get("max"), Decimal("Infinity"))
        if not low <= value <= high:
            problems.add("$.size", f"must be between {spec.get('min')} and {spec.get('max')}")
    return format(value.normalize(), "f")


def _part(name: str, spec: dict[str, Any], conf: Any, path: str, ctx: _Context) -> dict[str, Any]:
    if not isinstance(conf, dict):
        ctx.problems.add(path, "must be an object")
        return {}
    canonical: dict[str, Any] = {}
    type_entry = _type(name, spec, conf, path, ctx, canonical)
    _metal(name, spec, conf, path, ctx, canonical, type_entry)
    _stones(name, spec, conf, path, ctx, canonical)
    _length(spec, conf, path, ctx, canonical)
    for key, value in conf.items():
        if key in ("metal", "stone", "stones", "type", "length"):
            continue
        group = spec.get(key)
        if key in PART_SETTINGS or not isinstance(group, dict | list):
            ctx.problems.add(f"{path}.{key}", "not an option of this part")
            continue
        canonical[key] = _choice(name, key, group, value, f"{path}.{key}", ctx)
    for key, group in spec.items():
        if key not in PART_SETTINGS and isinstance(group, dict | list) and key not in conf:
            ctx.problems.add(f"{path}.{key}", "required")
    labor = _decimal(spec.get("labor")) + _decimal((type_entry or {}).get("labor"))
    if labor:
        _line(ctx, name, "labor", labor)
    return canonical


def _type(name: str, spec: dict[str, Any], conf: dict[str, Any], path: str, ctx: _Context,
          canonical: dict[str, Any]) -> dict[str, Any] | None:
    types = spec.get("types")
    if "type" not in conf:
        if types:
            ctx.problems.add(f"{path}.type", f"required (types: {_choices_text(types)})")
        return None
    found = _find(types, conf["type"]) if types else None
    if found is None:
        ctx.problems.add(f"{path}.type", f"not offered (types: {_choices_text(types)})")
        return None
    canonical["type"] = found[0]
    entry = found[1] if isinstance(found[1], dict) else {}
    price = _decimal(entry.get("price"))
    if price:
        _line(ctx, name, "type", price, sku=found[0])
    return entry


def _metal(name: str, spec: dict[str, Any], conf: dict[str, Any], path: str, ctx: _Context,
           canonical: dict[str, Any], type_entry: dict[str, Any] | None) -> None:
    metals = spec.get("metal")
    chosen = conf.get("metal")
    if not metals:
        if chosen is not None:
            ctx.problems.add(f"{path}.metal", "no metal choice is offered for this part")
        return
    if not isinstance(chosen, dict):
        ctx.problems.add(f"{path}.metal", "required: an object with sku and color")
        return
    found = _find(metals, chosen.get("sku"), "material_sku")
    if found is None:
        ctx.problems.add(f"{path}.metal.sku", f"not offered (metals: {_choices_text(metals, 'material_sku')})")
        return
    sku, entry = found
    result: dict[str, Any] = {"sku": sku}
    colors = entry.get("color") if isinstance(entry, dict) else None
    if colors:
        color = _find(colors, chosen.get("color"))
        if color is None:
            ctx.problems.add(f"{path}.metal.color", f"not offered for {sku} (colors: {_choices_text(colors)})")
        else:
            result["color"] = color[0]
    elif chosen.get("color") is not None:
        ctx.problems.add(f"{path}.metal.color", f"no colors are offered for {sku}")
    for extra in chosen:
        if extra not in ("sku", "color"):
            ctx.problems.add(f"{path}.metal.{extra}", "not an option of a metal")
    canonical["metal"] = result
    _price_metal(name, spec, sku, path, ctx, type_entry)


def _price_metal(name: str, spec: dict[str, Any], sku: str, path: str, ctx: _Context,
                 type_entry: dict[str, Any] | None) -> None:
    weight = _decimal((type_entry or {}).get("metal_weight_g"), _decimal(spec.get("metal_weight_g")))
    if not weight:
        return
    metal = ctx.book.metals.get(_key(sku))
    if metal is None:
        ctx.problems.add(f"{path}.metal.sku", f"metal {sku} has no price in the metal price table")
        return
    reference = ctx.book.metals.get(_key(spec.get("reference_metal") or DEFAULT_REFERENCE_METAL), metal)
    grams = weight * metal.density / reference.density if reference.density else weight
    cost_per_gram = ctx.book.convert(metal.cost_per_gram, metal.currency, ctx.currency)
    _line(ctx, name, "metal", grams * cost_per_gram, sku=sku, reference_metal=reference.sku,
          reference_weight_g=_plain_decimal(weight), weight_g=_plain_decimal(grams),
          cost_per_gram=_plain_decimal(cost_per_gram))


def _length(spec: dict[str, Any], conf: dict[str, Any], path: str, ctx: _Context, canonical: dict[str, Any]) -> None:
    if "length" not in conf:
        return
    lengths = spec.get("length")
    found = _find(lengths, conf["length"]) if lengths else None
    if found is None:
        ctx.problems.add(f"{path}.length", f"not offered (lengths: {_choices_text(lengths)})")
        return
    value = found[1] if isinstance(found[1], int | float) else found[0]
    canonical["length"] = value


def _stones(name: str, spec: dict[str, Any], conf: dict[str, Any], path: str, ctx: _Context,
            canonical: dict[str, Any]) -> None:
    offered = spec.get("stone")
    stones = conf.get("stone", [])
    maximum = int(_decimal(spec.get("stones_max"), Decimal(MAX_STONES if offered else 0)))
    minimum = int(_decimal(spec.get("stones_min")))
    positions = int(_decimal(spec.get("positions"), Decimal(maximum)))
    if not isinstance(stones, list):
        ctx.problems.add(f"{path}.stone", "must be a list of stones")
        return
    if stones and not offered:
        ctx.problems.add(f"{path}.stone", "no stones are offered for this part")
        return
    if len(stones) > maximum:
        ctx.problems.add(f"{path}.stone", f"at most {maximum} stones (stones_max)")
    if len(stones) < minimum:
        ctx.problems.add(f"{path}.stone", f"at least {minimum} stones")
    count = conf.get("stones")
    if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count != len(stones)):
        ctx.problems.add(f"{path}.stones", f"must equal the number of stones given ({len(stones)})")
    result: list[dict[str, Any]] = []
    seen: set[int] = set()
    for index, stone in enumerate(stones[:MAX_STONES]):
        entry = _stone(name, offered, stone, f"{path}.stone[{index}]", positions, seen, ctx)
        if entry is not None:
            result.append(entry)
    if stones:
        result.sort(key=lambda s: (s.get("position") or 0, s["sku"], s["shape"], s["weight"]))
        canonical["stones"] = len(stones)
        canonical["stone"] = result


def _stone(name: str, offered: Any, stone: Any, path: str, positions: int, seen: set[int],
           ctx: _Context) -> dict[str, Any] | None:
    if not isinstance(stone, dict):
        ctx.problems.add(path, "must be an object with sku, shape, weight and position")
        return None
    position_ok = _position(stone.get("position"), f"{path}.position", positions, seen, ctx)
    found = _find(offered, stone.get("sku"))
    if found is None:
        ctx.problems.add(f"{path}.sku", f"not offered (stones: {_choices_text(offered)})")
        return None
    sku, entry = found
    entry = entry if isinstance(entry, dict) else {}
    result: dict[str, Any] = {"sku": sku}
    ok = True
    for attr, spec_key in (("shape", "stone_shape"), ("weight", "weight_stone")):
        allowed = entry.get(spec_key)
        if stone.get(attr) is None:
            first = _entries(allowed)
            result[attr] = first[0][0] if first else ""
            continue
        if allowed is None:
            result[attr] = str(stone[attr])
            continue
        match = _find(allowed, stone[attr]) if allowed is not None else None
        if match is None:
            ctx.problems.add(f"{path}.{attr}", f"not offered for {sku} ({spec_key}: {_choices_text(allowed)})")
            ok = False
        else:
            result[attr] = match[0]
    if position_ok is None:
        ok = False
    elif position_ok:
        result["position"] = position_ok
    for extra in stone:
        if extra not in ("sku", "shape", "weight", "position"):
            ctx.problems.add(f"{path}.{extra}", "not an option of a stone")
    if not ok:
        return None
    material = str(entry.get("material_sku") or sku)
    quality = str(entry.get("quality") or "")
    cost = ctx.book.stone(material, result["shape"], result["weight"], quality)
    if cost is None:
        ctx.problems.add(f"{path}.sku", f"no stone price for {material} {result['shape']} {result['weight']} {quality}")
        return None
    unit = ctx.book.convert(cost.cost, cost.currency, ctx.currency)
    _line(ctx, name, "stone", unit, sku=sku, material_sku=material, shape=result["shape"], weight=result["weight"],
          quality=quality, count=1, unit_cost=_plain_decimal(unit))
    return result


def _position(position: Any, path: str, positions: int, seen: set[int], ctx: _Context) -> int | None:
    """The stone's position (0 when not given), or None when it is out of range or taken."""
    if position is None:
        return 0
    if not isinstance(position, int) or isinstance(position, bool) or not 1 <= position <= positions:
        ctx.problems.add(path, f"must be a whole number from 1 to {positions}")
        return None
    if position in seen:
        ctx.problems.add(path, f"position {position} is already taken")
        return None
    seen.add(position)
    return position


def _choice(name: str, key: str, group: Any, value: Any, path: str, ctx: _Context) -> dict[str, Any]:
    """A choice group (bridal ``center_stone``, ``side_settings``, ``carving``, ...): ``sku`` picks an entry,
    every other attribute must be one the entry offers."""
    if not isinstance(value, dict):
        ctx.problems.add(path, "must be an object with a sku")
        return {}
    found = _find(group, value.get("sku"))
    if found is None:
        ctx.problems.add(f"{path}.sku", f"not offered (choices: {_choices_text(group)})")
        return {}
    sku, entry = found
    entry = entry if isinstance(entry, dict) else {}
    result: dict[str, Any] = {"sku": sku}
    before = len(ctx.problems.errors)
    chosen_entries: list[dict[str, Any]] = []
    for attr, chosen in value.items():
        if attr == "sku":
            continue
        allowed = entry.get(attr)
        match = _find(allowed, chosen) if isinstance(allowed, dict | list) else None
        if match is None:
            ctx.problems.add(f"{path}.{attr}", f"not offered for {sku} ({attr}: {_choices_text(allowed)})")
            continue
        result[attr] = match[0]
        if isinstance(match[1], dict):
            chosen_entries.append(match[1])
    for attr, allowed in entry.items():
        if isinstance(allowed, dict | list) and attr not in value:
            ctx.problems.add(f"{path}.{attr}", f"required ({attr}: {_choices_text(allowed)})")
    if len(ctx.problems.errors) == before:
        _price_choice(name, key, sku, entry, result, chosen_entries, path, ctx)
    return result


def _price_choice(name: str, key: str, sku: str, entry: dict[str, Any], result: dict[str, Any],
                  chosen_entries: list[dict[str, Any]], path: str, ctx: _Context) -> None:
    """Flat prices of the entry and of its chosen values, plus its stones: ``count`` stones of ``material_sku``
    (a chosen value such as ``stone: "dmnd"`` or ``length: "SL2"`` may set the material, quality or count)."""
    price = _decimal(entry.get("price")) + sum((_decimal(e.get("price")) for e in chosen_entries), Decimal(0))
    if price:
        _line(ctx, name, key, price, sku=sku)
    merged: dict[str, Any] = {k: v for k, v in entry.items() if not isinstance(v, dict | list)}
    for chosen in chosen_entries:
        merged.update({k: v for k, v in chosen.items() if k in ("material_sku", "quality", "count", "stone_shape",
                                                                 "weight_stone")})
    count = int(_decimal(merged.get("count")))
    material = str(merged.get("material_sku") or sku)
    if count <= 0 or _key(material) == NO_STONE:
        return
    shape = str(result.get("stone_shape") or merged.get("stone_shape") or "")
    weight = str(result.get("stone_weight") or merged.get("weight_stone") or "")
    quality = str(result.get("stone_clarity") or merged.get("quality") or "")
    cost = ctx.book.stone(material, shape, weight, quality)
    if cost is None:
        ctx.problems.add(f"{path}.sku", f"no stone price for {material} {shape} {weight} {quality}")
        return
    unit = ctx.book.convert(cost.cost, cost.currency, ctx.currency)
    _line(ctx, name, key, unit * count, sku=sku, material_sku=material, shape=shape, weight=weight, quality=quality,
          count=count, unit_cost=_plain_decimal(unit))


def _engraving(spec: Any, value: Any, path: str, ctx: _Context) -> dict[str, Any]:
    if value is None or value == {} or value == []:
        return {}
    if not isinstance(spec, dict) or not spec.get("enabled"):
        ctx.problems.add(path, "engraving is not offered for this product")
        return {}
    if isinstance(value, list):
        value = {f"e{index}": slot for index, slot in enumerate(value)}
    if not isinstance(value, dict):
        ctx.problems.add(path, "must be an object of slots such as {\"e0\": {\"font\", \"text\"}}")
        return {}
    declared = spec.get("options")
    slots: dict[str, Any] = declared if isinstance(declared, dict) else {"e0": {}}
    fonts = spec.get("fonts") or []
    result: dict[str, Any] = {}
    for slot, chosen in value.items():
        slot_path = f"{path}.{slot}"
        if slot not in slots:
            ctx.problems.add(slot_path, f"not an engraving slot of this product (slots: {', '.join(slots)})")
            continue
        if not isinstance(chosen, dict):
            ctx.problems.add(slot_path, "must be an object with font and text")
            continue
        low, high = _char_limits(spec, slots[slot])
        font = _find(fonts, chosen.get("font"))
        if font is None:
            ctx.problems.add(f"{slot_path}.font", f"not offered (fonts: {_choices_text(fonts)})")
        text = chosen.get("text")
        if not isinstance(text, str):
            ctx.problems.add(f"{slot_path}.text", "required: a string")
        elif not low <= len(text) <= high:
            ctx.problems.add(f"{slot_path}.text", f"must be {low} to {high} characters")
        for extra in chosen:
            if extra not in ("font", "text"):
                ctx.problems.add(f"{slot_path}.{extra}", "not an option of an engraving")
        if font is not None and isinstance(text, str):
            result[slot] = {"font": font[0], "text": text}
            price = _decimal(spec.get("price"))
            if price:
                _line(ctx, "engraving", "engraving", price, slot=slot)
    return result


def _char_limits(spec: dict[str, Any], slot: Any) -> tuple[int, int]:
    shown = [size for size in slot.values() if isinstance(size, dict) and size.get("show")] if isinstance(
        slot, dict) else []
    low = spec.get("min_chars", min((int(_decimal(s.get("minChar"), Decimal(1))) for s in shown), default=1))
    high = spec.get("max_chars", max((int(_decimal(s.get("maxChar"), Decimal(30))) for s in shown), default=30))
    return int(_decimal(low, Decimal(1))), min(int(_decimal(high, Decimal(30))), MAX_TEXT)


# --- configuration ids ---------------------------------------------------------------------------------------

def configuration_id(vendor_model: str, canonical: dict[str, Any], size: str | None) -> str:
    """``<VENDOR_MODEL>-<base32 digest>`` of the canonical choices (sorted keys, spec spelling, stones sorted)."""
    document = json.dumps({"configuration": canonical, "size": size}, sort_keys=True, separators=(",", ":"),
                          ensure_ascii=False, default=str)
    digest = hashlib.sha256(f"{_key(vendor_model)}\n{document}".encode()).digest()
    return f"{vendor_model.upper()}-{base64.b32encode(digest[:10]).decode()}"


# --- the cheapest valid configuration ------------------------------------------------------------------------

def cheapest(options: dict[str, Any], *, book: PriceBook, currency: str, markup: Decimal) -> Priced | None:
    """The cheapest valid configuration (``retail_start``): parts are priced independently, so each required
    part's cheapest variant together make the cheapest piece. None when nothing can be priced."""
    configuration: dict[str, Any] = {}
    for name in _parts(options):
        spec = options[name]
        if spec.get("required", True) in (False, 0):
            continue
        best = _cheapest_part(name, spec, book=book, currency=currency)
        if best is None:
            return None
        configuration[name] = best
    try:
        return evaluate(options, configuration, None, book=book, currency=currency, markup=markup)
    except ValidationFailed:
        return None


def _cheapest_part(name: str, spec: dict[str, Any], *, book: PriceBook, currency: str) -> dict[str, Any] | None:
    best: tuple[Decimal, dict[str, Any]] | None = None
    for candidate in itertools.islice(_part_candidates(spec, book, currency), _CANDIDATE_CAP):
        ctx = _Context(book=book, currency=currency, problems=_Problems(), lines=[])
        _part(name, spec, candidate, "$", ctx)
        if ctx.problems.errors:
            continue
        cost = sum((line["amount"] for line in ctx.lines), Decimal(0))
        if best is None or cost < best[0]:
            best = (cost, candidate)
    return None if best is None else best[1]


def _part_candidates(spec: dict[str, Any], book: PriceBook, currency: str) -> Iterator[dict[str, Any]]:
    """Every metal x type with each choice group at its own cheapest (groups do not depend on the metal)."""
    metals: list[dict[str, str] | None] = [_first_color(sku, e) for sku, e in _entries(spec.get("metal"),
                                                                                        "material_sku")] or [None]
    types: list[str | None] = [sku for sku, _ in _entries(spec.get("types"))] or [None]
    groups: dict[str, dict[str, Any]] = {}
    for key, group in spec.items():
        if key not in PART_SETTINGS and isinstance(group, dict | list):
            best = _cheapest_choice(key, group, book, currency)
            if best is None:
                return
            groups[key] = best
    stones = _cheapest_stones(spec, book)
    for metal, type_ in itertools.product(metals, types):
        candidate: dict[str, Any] = dict(groups)
        if metal is not None:
            candidate["metal"] = metal
        if type_ is not None:
            candidate["type"] = type_
        if stones:
            candidate["stone"] = stones
        yield candidate


def _cheapest_choice(key: str, group: Any, book: PriceBook, currency: str) -> dict[str, Any] | None:
    best: tuple[Decimal, dict[str, Any]] | None = None
    for candidate in itertools.islice(_group_candidates(group), _CANDIDATE_CAP):
        ctx = _Context(book=book, currency=currency, problems=_Problems(), lines=[])
        _choice("part", key, group, candidate, "$", ctx)
        if ctx.problems.errors:
            continue
        cost = sum((line["amount"] for line in ctx.lines), Decimal(0))
        if best is None or cost < best[0]:
            best = (cost, candidate)
    return None if best is None else best[1]


def _first_color(sku: str, entry: Any) -> dict[str, str]:
    colors = _entries(entry.get("color")) if isinstance(entry, dict) else []
    return {"sku": sku, "color": colors[0][0]} if colors else {"sku": sku}


def _group_candidates(group: Any) -> Iterator[dict[str, Any]]:
    for sku, entry in _entries(group):
        entry = entry if isinstance(entry, dict) else {}
        attributes = {attr: [s for s, _ in _entries(allowed)] for attr, allowed in entry.items()
                      if isinstance(allowed, dict | list)}
        for combo in itertools.product(*attributes.values()):
            yield {"sku": sku, **dict(zip(attributes.keys(), combo, strict=True))}


def _cheapest_stones(spec: dict[str, Any], book: PriceBook) -> list[dict[str, Any]]:
    count = int(_decimal(spec.get("stones_min")))
    if count <= 0:
        return []
    priced = []
    for sku, entry in _entries(spec.get("stone")):
        entry = entry if isinstance(entry, dict) else {}
        shapes = [s for s, _ in _entries(entry.get("stone_shape"))] or [""]
        weights = [w for w, _ in _entries(entry.get("weight_stone"))] or [""]
        for shape, weight in itertools.product(shapes, weights):
            material, quality = str(entry.get("material_sku") or sku), str(entry.get("quality") or "")
            cost = book.stone(material, shape, weight, quality)
            if cost is not None:
                priced.append((cost.cost, sku, shape, weight))
    if not priced:
        return []
    _, best, best_shape, best_weight = min(priced)
    return [{"sku": best, "shape": best_shape, "weight": best_weight, "position": i + 1} for i in range(count)]
