"""The WJ Partners seed's (001) example request bodies, copied verbatim: the five configuration examples
of "Get Product Configuration Data" and the "Full Order Data" of "Create Single Order". The seed prints them
as fragments that are not quite JSON (``"engraving": ["e0": {...}]``, trailing commas); ``seed_json``
reads them the only way they can be meant."""

from __future__ import annotations

import json
import re
from typing import Any

PENDANT_CONFIGURATION = r"""
"configuration": {
    "chain": {
        "type": "C1",
        "metal": {
          "sku": "f",
          "color": "R"
      },
      "length": 16
    },
    "pendant": {
        "stones": 3,
        "stone": [
            {
                "sku":"sss",
                "shape":"rd",
                "weight":"k",
                "position":2
            },
            {
                "sku":"dst",
                "shape":"rd",
                "weight":"k",
                "position":3
            },
            {
                "sku":"fsa",
                "shape":"rd",
                "weight":"k",
                "position":1
            }
        ],
        "metal": {
            "sku": "f",
            "color": "Y"
        }
    },
    "engraving": [
        "e0": {
            "font":  "satisfy",
            "text": "ABC"
        },
        "e1": {
            "font":  "satisfy",
            "text": "ABC"
        }
    ]
},
"""

RING_CONFIGURATION = r"""
"configuration": {
    "ring": {
        "stones": 3,
        "stone": [
            {
                "sku":"sss",
                "shape":"rd",
                "weight":"k",
                "position":1
            } ,
            {
                "sku":"dst",
                "shape":"rd",
                "weight":"k",
                "position":2
            } ,
            {
                "sku":"fsa",
                "shape":"rd",
                "weight":"k",
                "position":3
            }
        ],
        "metal":
        {
            "sku": "f",
            "color": "Y"
        },
    },
    "engraving": [
        "e0": {
            "font":  "satisfy",
            "text": "ABC"
        },
        "e1": {
            "font":  "satisfy",
            "text": "ABC"
        }
    ]
}
"""

BRIDAL_CONFIGURATION = r"""
"configuration": {
    "head": {
      "type": "HS4",
      "center_stone": {
        "sku": "DI",
        "stone_shape": "RD",
        "stone_weight": "F",
        "stone_color": "W",
        "stone_clarity": "SI2"
      },
      "additional_stones": {
        "sku": "DI",
        "stone_color": "W"
      },
      "metal": {
        "sku": "F",
        "color": "Y"
      }
    },
    "shank": {
      "type": "HS4",
      "side_settings": {
        "sku": "PS",
        "length": "SL1",
        "stone": "NO",
        "stone_color": "U"
      },
      "carving": {
        "sku": "CA0",
        "length": "CL1"
      },
      "metal": {
        "sku": "F",
        "color": "Y"
      }
    },
    "engraving": [
        "e0": {
            "font":  "satisfy",
            "text": "ABC"
        },
        "e1": {
            "font":  "satisfy",
            "text": "ABC"
        }
    ]
  }
"""

EARRING_CONFIGURATION = r"""
"configuration": {
    "earring": {
        "stones": 3,
        "stone": [
            {
                "sku":"sss",
                "shape":"rd",
                "weight":"k",
                "position":2
            },
            {
                "sku":"dst",
                "shape":"rd",
                "weight":"k",
                "position":3
            },
            {
                "sku":"fsa",
                "shape":"rd",
                "weight":"k",
                "position":1
            }
        ],
        "metal": {
            "sku": "f",
            "color": "Y"
        },
        "length": 16
    },
    "engraving": [
        "e0": {
            "font":  "satisfy",
            "text": "ABC"
        },
        "e1": {
            "font":  "satisfy",
            "text": "ABC"
        }
    ]
},
"""

BRACELET_CONFIGURATION = r"""
"configuration": {
    "bracelet": {
        "stones": 3,
        "stone": [
            {
                "sku":"sss",
                "shape":"rd",
                "weight":"k",
                "position":2
            },
            {
                "sku":"dst",
                "shape":"rd",
                "weight":"k",
                "position":3
            },
            {
                "sku":"fsa",
                "shape":"rd",
                "weight":"k",
                "position":1
            }
        ],
        "metal": {
            "sku": "f",
            "color": "Y"
        },
        "length": 16
    },
    "engraving": [
        "e0": {
            "font":  "satisfy",
            "text": "ABC"
        },
        "e1": {
            "font":  "satisfy",
            "text": "ABC"
        }
    ]
},
"""

FULL_ORDER_DATA = r"""
{
  "order_date": 1559229507,
  "order_purpose": 1,
  "order_type": 1,
  "shipping_address": "City, Country",
  "customer_id": 19,
  "customer_email": "abc@gmail.com",
  "customer_phone": "34124",
  "customer_name": "Jon Doe",
  "billing_address": "Country, City",
  "payment_status": 2,
  "order_status": 3,
  "currency": 1,
  "items": {
    "qty": 1,
    "vendor_model": "RPD104",
    "configuration": {
      "chain": {
        "type": "C1",
        "metal": {
          "sku": "f",
          "color": "R"
        }
      },
      "pendant": {
        "stones": 3,
        "stone": [
          {
            "sku": "sss",
            "shape": "rd",
            "weight": "k",
            "position": 2
          },
          {
            "sku": "dst",
            "shape": "rd",
            "weight": "k",
            "position": 3
          },
          {
            "sku": "fsa",
            "shape": "rd",
            "weight": "k",
            "position": 1
          }
        ],
        "metal": {
          "sku": "f",
          "color": "Y"
        }
      },
      "engraving": [
        "e0": {
            "font":  "satisfy",
            "text": "ABC"
        },
        "e1": {
            "font":  "satisfy",
            "text": "ABC"
        }
    ]
    }
  }
}
"""


def seed_json(fragment: str) -> dict[str, Any]:
    """The object a seed fragment means: a bare ``"configuration": {...}`` member becomes an object holding it,
    ``"engraving": [ "e0": {...}, ... ]`` (keys inside brackets) becomes an object, trailing commas go."""
    text = fragment.strip().rstrip(",")
    if text.startswith('"'):
        text = "{" + text + "}"
    text = _keyed_brackets_as_object(text)
    text = re.sub(r",(\s*[}\]])", r"\1", text)
    return dict(json.loads(text))


def _keyed_brackets_as_object(text: str) -> str:
    chars = list(text)
    for match in re.finditer(r'\[\s*"[^"]*"\s*:', text):
        open_at = match.start()
        depth = 0
        for index in range(open_at, len(text)):
            if text[index] in "[{":
                depth += 1
            elif text[index] in "]}":
                depth -= 1
                if depth == 0:
                    chars[open_at], chars[index] = "{", "}"
                    break
    return "".join(chars)


def configuration(fragment: str) -> dict[str, Any]:
    return dict(seed_json(fragment)["configuration"])


CONFIGURATIONS: dict[str, str] = {
    "pendant": PENDANT_CONFIGURATION, "ring": RING_CONFIGURATION, "bridal": BRIDAL_CONFIGURATION,
    "earring": EARRING_CONFIGURATION, "bracelet": BRACELET_CONFIGURATION,
}
