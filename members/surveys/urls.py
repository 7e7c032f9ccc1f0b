"""Members' pages of 问卷与信箱 (served by the CMS only, under /accounts/; never on the static site)."""

urlpatterns: list = []
