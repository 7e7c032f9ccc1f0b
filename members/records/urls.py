"""Members' pages of 学习记录 (served by the CMS only, under /accounts/; never on the static site)."""

urlpatterns: list = []
