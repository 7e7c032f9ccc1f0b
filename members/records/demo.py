"""Demo data of 学习记录: the default 积分规则 and a few days of reading and one quiz for the demo
member (``member``). Idempotent: rules are matched by name, records by member, page and day."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone
from wagtail.models import Page

from cms import visibility

from .models import Action, PointsRule, QuizRecord, ReadingRecord
from .services import study_material_types

DEFAULT_RULES = [
    ("阅读学习资料", Action.READING_MINUTES, 1, 30),
    ("打开学习资料", Action.MATERIAL_OPENED, 2, 10),
    ("参加在线测评", Action.QUIZ_TAKEN, 5, 10),
    ("通过在线测评", Action.QUIZ_PASSED, 10, 20),
]
DEMO_ATTEMPT_ID = 2**62  # far from the quiz app's own ids: a stand-in attempt of the demo


def load(home, log) -> None:
    made = 0
    for name, action, points, cap in DEFAULT_RULES:
        _rule, created = PointsRule.objects.get_or_create(
            name=name, defaults={"action": action, "points": points, "daily_cap": cap}
        )
        made += created
    member = get_user_model().objects.filter(username="member").first()
    if member is None:
        log(f"学习记录：积分规则 {made} 条；没有示例会员 member，未生成学习记录。")
        return
    materials = list(
        visibility.pages_visible_to(
            member, Page.objects.descendant_of(home).type(*study_material_types())
        ).order_by("path")[:3]
    )
    today = timezone.localdate()
    rows = 0
    for offset, page in enumerate(materials):
        for back in (offset + 1, offset + 3):
            _row, created = ReadingRecord.objects.get_or_create(
                user=member,
                page=page,
                day=today - timedelta(days=back),
                defaults={"page_title": page.title[:255], "seconds": 300 + 120 * offset, "opens": 1},
            )
            rows += created
    QuizRecord.objects.get_or_create(
        attempt_id=DEMO_ATTEMPT_ID,
        defaults={
            "user": member,
            "quiz_id": 0,
            "quiz_title": "党章党规知识测评（示例）",
            "score": 8,
            "max_score": 10,
            "passed": True,
            "finished_at": timezone.now() - timedelta(days=2),
        },
    )
    log(f"学习记录：积分规则 {made} 条，示例会员的阅读记录 {rows} 条。")
