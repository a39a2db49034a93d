"""Key figures, dashboards and client insights: RGS codes, amounts, CSV imports and charts."""
