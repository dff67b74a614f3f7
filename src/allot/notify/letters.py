"""E-mails as a business reads them: in its language, as plain text and as HTML (W2).

Each message is a pair of templates in `templates/`: `<name>.txt` holds the subject and the
plain text (not escaped), `<name>.html` the HTML part (escaped), both through the catalogs'
`_()`. The caller hands in the values, already formatted for the language where they are
money or dates; a letter holds no data of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from allot.kit.i18n import environment, language

if TYPE_CHECKING:
    from jinja2 import Environment


@dataclass(frozen=True, slots=True)
class Letter:
    subject: str
    text: str
    html: str


@cache
def _environment(lang: str) -> Environment:
    from jinja2 import PackageLoader

    return environment(PackageLoader("allot.notify", "templates"), lang, strict=True)


def _block(env: Environment, template: str, block: str, values: dict[str, Any]) -> str:
    found = env.get_template(template)
    return "".join(found.blocks[block](found.new_context(values)))


def compose(name: str, lang: str | None, /, **values: Any) -> Letter:
    """The letter `name` in `lang` (English for a language allot does not speak)."""
    env = _environment(language(lang))
    values = {"lang": language(lang), **values}
    subject = " ".join(_block(env, f"{name}.txt", "subject", values).split())
    text = _block(env, f"{name}.txt", "text", values).strip() + "\n"
    html = env.get_template(f"{name}.html").render(values, subject=subject)
    return Letter(subject=subject, text=text, html=html)
