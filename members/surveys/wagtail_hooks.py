"""Admin wiring of 问卷与信箱: the charts view and the 信箱回复 menu."""

from django.urls import path
from wagtail import hooks

from .views import ReplyViewSet, charts


@hooks.register("register_admin_urls")
def register_survey_urls():
    return [path("surveys/<int:page_id>/charts/", charts, name="surveys_charts")]


@hooks.register("register_admin_viewset")
def register_reply_viewset():
    return ReplyViewSet()


@hooks.register("construct_homepage_panels")
def keep_the_inbox_import_running(request, panels):
    from .tasks import ensure_import_schedule

    ensure_import_schedule()  # a cheap read once the chain is running
