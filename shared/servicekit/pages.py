"""HTML pages a service serves: Jinja2 templates with autoescaping, under a strict Content-Security-Policy.

Everything a template shows is escaped by the engine (``autoescape=True``), never by hand.
A service keeps its own templates and its stylesheet (``page.css``) in its ``chalicelib/
templates``; the skeleton they extend, ``base.html``, is here. Each page inlines its
stylesheet, allowed by its hash; no page may run a script, be framed, or send a referrer.
Jinja2 costs about 40 ms of import, so it is loaded on the first page a process serves,
never at a cold start (importing ``app.py`` is the authorizer's whole cold start too).
"""

from __future__ import annotations

import base64
import hashlib
import os
from typing import TYPE_CHECKING, Any

from .lazy import Lazy

if TYPE_CHECKING:
    import jinja2

SHARED_TEMPLATES = os.path.join(os.path.dirname(os.path.realpath(__file__)), "templates")
STYLESHEET = "page.css"


class Pages:
    """A service's templates (``folder``, then the shared ones), rendered and served with their headers."""

    def __init__(self, folder: str) -> None:
        self._folder = folder
        self.environment = Lazy(self._environment)
        self.style_source = Lazy(self._style_source)

    def _environment(self) -> jinja2.Environment:
        import jinja2

        return jinja2.Environment(
            loader=jinja2.ChoiceLoader(
                [jinja2.FileSystemLoader(self._folder), jinja2.FileSystemLoader(SHARED_TEMPLATES)]
            ),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            auto_reload=False,
        )

    def _style_source(self) -> str:
        # The stylesheet is inlined by base.html's `{% include "page.css" %}`: hash exactly what that renders.
        css = self.environment().get_template(STYLESHEET).render()
        return "'sha256-" + base64.b64encode(hashlib.sha256(css.encode()).digest()).decode() + "'"

    def render(self, template: str, **context: Any) -> str:
        """The page ``template`` with ``context``, every value escaped."""
        return self.environment().get_template(template).render(**context)

    def headers(self, form_action: str = "'none'") -> dict[str, str]:
        """HTML, no scripts, no framing, no sniffing, no referrer; forms only to ``form_action`` (CSP sources)."""
        policy = "; ".join(
            [
                "default-src 'none'",
                f"style-src {self.style_source()}",
                "base-uri 'none'",
                f"form-action {form_action}",
                "frame-ancestors 'none'",
            ]
        )
        return {
            "Content-Type": "text/html; charset=utf-8",
            "Content-Security-Policy": policy,
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "no-referrer",
        }
