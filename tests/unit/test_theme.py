import pytest

from portal.tenancy import theme
from portal.tenancy.models import Practice


def test_black_on_white_has_the_maximum_contrast():
    assert theme.contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)


def test_mid_grey_on_white_fails_wcag_aa():
    assert theme.contrast_ratio("#999999", "#ffffff") < theme.AA_NORMAL_TEXT


def test_text_on_a_dark_brand_colour_is_white():
    assert theme.text_color_on("#1d4f7a") == "#ffffff"
    assert theme.text_color_on("#f5d76e") == "#000000"


def test_practice_colours_override_the_theme():
    practice = Practice(slug="x", name="X", theme="harbour", brand_color="#123456")
    css = theme.stylesheet(practice)
    assert "--brand: #123456;" in css.split(":root {")[-1]
    assert css.startswith("/* Theme \"harbour\"")


def test_unknown_theme_falls_back_to_default():
    practice = Practice(slug="x", name="X", theme="../../etc")
    assert theme.stylesheet(practice).startswith("/* Theme \"default\"")


def test_both_shipped_themes_are_available():
    assert {"default", "harbour"} <= set(theme.available_themes())
