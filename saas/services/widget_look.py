"""The widget's look per tenant: colour, side, launcher text, greeting, logo, hiding outside business hours.

The widget reads it from the ``session`` payload each time it loads, so a change shows on every site
without touching the embed snippet. The text on the tenant's colour is chosen here, white or dark,
whichever contrasts more; WCAG 2.1 AA asks for 4.5:1, and the admin is warned when neither reaches it.
"""
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ..models import WidgetLook, utcnow
from ..models.widget_look import DEFAULT_COLOR, DEFAULT_GREETING, DEFAULT_LAUNCHER_TEXT, POSITIONS
from . import business_hours
from .errors import Invalid
from .file_types import sniff

LIGHT_TEXT, DARK_TEXT = "#ffffff", "#111827"
AA_NORMAL_TEXT = 4.5
MAX_LOGO_BYTES = 200 * 1024
MAX_LAUNCHER_TEXT = 24
MAX_GREETING = 200
_HEX_COLOR = re.compile(r"#([0-9a-f]{3}|[0-9a-f]{6})")


@dataclass(frozen=True)
class Contrast:
    color: str
    text_color: str  # LIGHT_TEXT or DARK_TEXT, whichever reads better on ``color``
    ratio: float
    warning: str | None  # set when even the better text misses AA


def look(session: Session) -> WidgetLook:
    """The stored look, or the defaults (not added to the session) for a tenant that never set one."""
    return session.get(WidgetLook, 1) or WidgetLook(
        id=1, color=DEFAULT_COLOR, position="right", launcher_text=DEFAULT_LAUNCHER_TEXT, greeting=DEFAULT_GREETING,
        hide_outside_hours=False, version=0)


def clean_color(value) -> str:
    """``#rgb`` or ``#rrggbb`` (any case) as ``#rrggbb``; anything else is refused."""
    text = value.strip().lower() if isinstance(value, str) else ""
    match = _HEX_COLOR.fullmatch(text)
    if match is None:
        raise Invalid("invalid_color", "%(value)r is not a colour: write it as #rrggbb, e.g. #2563eb.",
                      value=str(value)[:40])
    digits = match.group(1)
    return "#" + (digits if len(digits) == 6 else "".join(d * 2 for d in digits))


def _luminance(color: str) -> float:
    """WCAG 2.1 relative luminance of a #rrggbb colour."""
    def linear(channel: int) -> float:
        value = channel / 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)


def contrast_ratio(first: str, second: str) -> float:
    lighter, darker = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def contrast(color) -> Contrast:
    color = clean_color(color)
    text_color = max((LIGHT_TEXT, DARK_TEXT), key=lambda text: contrast_ratio(color, text))
    ratio = math.floor(contrast_ratio(color, text_color) * 100) / 100  # never shown as passing when it fails
    warning = None
    if ratio < AA_NORMAL_TEXT:
        warning = (f"Text on {color} reaches only {ratio}:1 (WCAG 2.1 AA asks for {AA_NORMAL_TEXT}:1): "
                   f"some visitors will not be able to read the widget's buttons. Pick a darker or lighter colour.")
    return Contrast(color, text_color, ratio, warning)


def _clean_text(value, name: str, limit: int) -> str:
    text = " ".join(value.split()) if isinstance(value, str) else ""
    if not text:
        raise Invalid(f"invalid_{name}", "The %(field)s cannot be empty.", field=name.replace("_", " "))
    if len(text) > limit:
        raise Invalid(f"invalid_{name}", "The %(field)s is at most %(limit)s characters.",
                      field=name.replace("_", " "), limit=limit)
    return text


def clean_logo(data: bytes) -> str:
    """The logo's file type key: a PNG, JPEG, GIF or WebP image of at most MAX_LOGO_BYTES, by its bytes."""
    if len(data) > MAX_LOGO_BYTES:
        raise Invalid("logo_too_large", "The logo is larger than %(kilobytes)s KB.", kilobytes=MAX_LOGO_BYTES // 1024)
    file_type = sniff(data).file_type
    if file_type is None or not file_type.is_image:
        raise Invalid("logo_not_an_image", "The logo must be a PNG, JPEG, GIF or WebP image.")
    return file_type.key


def update(session: Session, *, color, position, launcher_text, greeting, hide_outside_hours: bool,
           logo: bytes | None = None, remove_logo: bool = False) -> WidgetLook:
    """Check everything first, then save: a refusal leaves the stored look as it was."""
    color = clean_color(color)
    if position not in POSITIONS:
        raise Invalid("invalid_position", "The widget sits on the right or on the left.")
    launcher_text = _clean_text(launcher_text, "launcher_text", MAX_LAUNCHER_TEXT)
    greeting = _clean_text(greeting, "greeting", MAX_GREETING)
    logo_type = clean_logo(logo) if logo else None
    row = session.get(WidgetLook, 1)
    if row is None:
        row = look(session)
        session.add(row)
    row.color, row.position, row.launcher_text, row.greeting = color, position, launcher_text, greeting
    row.hide_outside_hours = bool(hide_outside_hours)
    if logo:
        row.logo, row.logo_type = logo, logo_type
    elif remove_logo:
        row.logo, row.logo_type = None, None
    row.version += 1
    row.updated_at = utcnow()
    session.flush()
    return row


def settled(session: Session) -> tuple[dict, bool]:
    """``for_widget`` without ``hidden`` (what only a change of the look changes), and whether the
    tenant asked to hide the widget outside business hours."""
    stored = look(session)
    chosen = contrast(stored.color)
    return {
        "version": stored.version, "color": chosen.color, "text_color": chosen.text_color,
        "position": stored.position, "launcher_text": stored.launcher_text, "greeting": stored.greeting,
        "has_logo": stored.logo_type is not None,
    }, stored.hide_outside_hours


def shown(settled_look: dict, hides_outside_hours: bool, open_now: Callable[[], bool]) -> dict:
    """The look with ``hidden``: hide the launcher now, because the tenant asked to be invisible
    outside business hours and it is outside them."""
    return {**settled_look, "hidden": hides_outside_hours and not open_now()}


def for_widget(session: Session) -> dict:
    """What the widget applies at load (in the ``session`` payload)."""
    return shown(*settled(session), lambda: business_hours.open_now(session, None))
