from portal.clients import tiers


def test_every_tier_downloads_reports_but_only_extended_has_the_portal():
    assert all(tiers.has(t, "download_reports") for t in tiers.TIERS)
    assert tiers.tiers_with("portal") == (tiers.COLLABORATE_PLUS,)


def test_sharing_reports_starts_at_collaborate():
    assert not tiers.has(tiers.STANDARD, "share_reports")
    assert tiers.has(tiers.COLLABORATE, "share_reports")
    assert tiers.has(tiers.COLLABORATE_PLUS, "share_reports")


def test_downgrade_from_extended_to_standard_names_what_is_lost():
    lost = tiers.lost_on_change(tiers.COLLABORATE_PLUS, tiers.STANDARD)
    assert "portal" in lost and "share_reports" in lost
    assert "download_reports" not in lost
    assert tiers.lost_on_change(tiers.STANDARD, tiers.COLLABORATE_PLUS) == []


def test_prices_follow_the_product_text():
    assert [str(tiers.DEFAULT_PRICES[t]) for t in tiers.TIERS] == ["0.80", "1.10", "1.65"]
