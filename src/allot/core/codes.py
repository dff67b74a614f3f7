"""Access Code text: unguessable, easy to type, with a check character (K2).

A code is 16 symbols of Crockford's base32 (80 random bits) and one check
symbol (Luhn mod 32), shown in groups: `7K2M-9QXD-4HRT-PV0C-8`. Reading is
forgiving — case, spaces and dashes do not matter, and the look-alikes
I/L → 1 and O → 0 are read as what was meant — and the check symbol catches
every single mistyped symbol and most swapped neighbours before any lookup.

    >>> code = format_code(bytes(range(10)))
    >>> code
    '000G-40R4-0M30-E209-B'
    >>> normalize(code.lower().replace("0", "o")) == normalize(code)
    True
    >>> is_well_formed("000G-40R4-0M30-E209-C")
    False
"""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
_LOOK_ALIKES = str.maketrans({"I": "1", "L": "1", "O": "0"})
DATA_SYMBOLS = 16  # 16 x 5 bits = 80 bits
ENTROPY_BYTES = 10


def _check_symbol(data: str) -> str:
    """Luhn mod 32 over the data symbols."""
    factor, total = 2, 0
    for char in reversed(data):
        addend = factor * _VALUE[char]
        factor = 1 if factor == 2 else 2
        total += addend // 32 + addend % 32
    return ALPHABET[(32 - total % 32) % 32]


def format_code(entropy: bytes) -> str:
    """The printed code for 10 random bytes."""
    if len(entropy) != ENTROPY_BYTES:
        raise ValueError(f"a code needs exactly {ENTROPY_BYTES} random bytes")
    number = int.from_bytes(entropy, "big")
    data = "".join(ALPHABET[(number >> (5 * i)) & 31] for i in reversed(range(DATA_SYMBOLS)))
    full = data + _check_symbol(data)
    return "-".join(full[i : i + 4] for i in range(0, len(full), 4))


def normalize(text: str) -> str:
    """The canonical form to store and look up: upper case, no separators, look-alikes read."""
    return "".join(text.split()).replace("-", "").upper().translate(_LOOK_ALIKES)


def is_well_formed(text: str) -> bool:
    """Right length, right alphabet, right check symbol."""
    code = normalize(text)
    if len(code) != DATA_SYMBOLS + 1 or any(c not in _VALUE for c in code):
        return False
    return _check_symbol(code[:-1]) == code[-1]


def display(canonical: str) -> str:
    return "-".join(canonical[i : i + 4] for i in range(0, len(canonical), 4))


def link(template: str, canonical: str) -> str:
    """A link that carries a code: `{code}` in the platform's template becomes its display form.

    The display form is URL-safe as it is (digits, capitals and hyphens).

    >>> link("https://app.example.com/billing?activate={code}", "7K2M9QXD4HRTPV0C8")
    'https://app.example.com/billing?activate=7K2M-9QXD-4HRT-PV0C-8'
    """
    return template.replace("{code}", display(canonical))
