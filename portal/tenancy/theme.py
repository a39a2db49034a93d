"""Themes, the per-practice stylesheet and colour contrast (WCAG 2.x)."""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from portal import ROOT

if TYPE_CHECKING:
    from portal.tenancy.models import Practice

THEMES_DIR = ROOT / "themes"
HEX_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
AA_NORMAL_TEXT = 4.5


def available_themes() -> list[str]:
    return sorted(p.name for p in THEMES_DIR.iterdir() if (p / "theme.css").is_file())


@lru_cache(maxsize=32)
def _theme_css(name: str) -> str:
    path = THEMES_DIR / name / "theme.css"
    if not path.is_file() or path.parent.parent != THEMES_DIR:
        path = THEMES_DIR / "default" / "theme.css"
    return path.read_text(encoding="utf-8")


def theme_color(name: str, prop: str) -> str | None:
    """A colour custom property of a theme (e.g. --brand), for places without CSS: mail."""
    found = re.search(rf"--{prop}:\s*(#[0-9a-fA-F]{{6}})", _theme_css(name))
    return found.group(1) if found else None


def relative_luminance(color: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast_ratio(a: str, b: str) -> float:
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def text_color_on(background: str) -> str:
    """Black or white, whichever reads better on the background."""
    return "#000000" if contrast_ratio(background, "#000000") >= contrast_ratio(
        background, "#ffffff") else "#ffffff"


def stylesheet(practice: Practice | None) -> str:
    """The theme's custom properties followed by the practice's own colours."""
    if practice is None:
        return _theme_css("default")
    css = _theme_css(practice.theme or "default")
    overrides = []
    if practice.brand_color:
        overrides.append(f"--brand: {practice.brand_color};")
        overrides.append(f"--on-brand: {text_color_on(practice.brand_color)};")
    if practice.accent_color:
        overrides.append(f"--accent: {practice.accent_color};")
    if practice.background_color:
        overrides.append(f"--page-bg: {practice.background_color};")
    if overrides:
        css += "\n:root {\n  " + "\n  ".join(overrides) + "\n}\n"
    return css


def stylesheet_version(practice: Practice | None) -> str:
    return hashlib.sha256(stylesheet(practice).encode()).hexdigest()[:16]


def theme_exists(name: str) -> bool:
    return (THEMES_DIR / name / "theme.css").is_file() and Path(name).name == name
