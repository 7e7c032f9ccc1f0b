"""The SVG charts escape what editors and visitors typed (column titles, search queries)."""

from cms.dashboard import charts


def test_labels_are_escaped():
    svg = charts.bar_chart([('<script>alert(1)</script>"', 3)], "热门搜索词")
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg


def test_empty_data_says_so():
    assert "暂无数据" in charts.bar_chart([], "各栏目文章")
    assert "暂无数据" in charts.bar_chart([("党建", 0)], "各栏目文章")


def test_bars_are_proportional_and_months_are_labelled():
    svg = charts.bar_chart([("甲", 10), ("乙", 5)], "图")
    assert 'width="280"' in svg and 'width="140"' in svg
    months = charts.column_chart([("2026-01", 2), ("2026-02", 0)], "每月发布")
    assert months.count("<rect") == 2 and "1月" in months and "<title>2026-02：0</title>" in months
