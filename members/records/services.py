"""Study records: recording reading time and quizzes, 学习积分, who sees what, and retention.

**Reading.** ``record_reading`` adds a beacon's seconds to the member's row for that page and day:
at most ``MAX_BEACON_SECONDS`` per beacon, no more than the time since the row's last beacon (plus a
little slack: two tabs never count double), at most ``MAX_DAILY_SECONDS`` per page and day. Only
members, and only for study materials the visibility rule lets them read.

**Points.** ``points`` computes 学习积分 from the records and the enabled ``PointsRule`` rows, day by
day (each rule's daily cap applies per member and day): nothing is stored, so nothing can drift.

**Scope.** A member's records are visible to the member and to the administrators of their branch
or a branch above (``cms.orgs.services.units_managed_by``; superusers manage every unit).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from wagtail.models import Page

from cms import visibility
from cms.orgs.models import Organisation
from cms.orgs.services import units_managed_by

from .models import Action, PointsRule, QuizRecord, ReadingRecord

logger = logging.getLogger("shuyuan.members")

MAX_BEACON_SECONDS = 60
MAX_DAILY_SECONDS = 4 * 3600
SLACK_SECONDS = 5
DEFAULT_RETENTION_DAYS = 730
MAX_ID = 2**31 - 1  # page ids and seconds beyond this are refused (as the schema says)


class Refused(Exception):
    """The beacon is not recorded: ``status`` is what the API answers (400, 403)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


# -- settings ----------------------------------------------------------------------------------------------


def retention_days() -> int:
    """``SHUYUAN_STUDY_RECORDS_DAYS``: how long records are kept (days, at least 1; default 730)."""
    value = getattr(settings, "SHUYUAN_STUDY_RECORDS_DAYS", DEFAULT_RETENTION_DAYS)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ImproperlyConfigured(
            f"SHUYUAN_STUDY_RECORDS_DAYS must be a whole number of days ≥ 1, not {value!r}."
        )
    return value


# -- recording ---------------------------------------------------------------------------------------------


def study_material_types():
    from cms.models.pages import StudyMaterialPage

    return (StudyMaterialPage,)


def readable_material(user, page_id: int) -> Page | None:
    """The study material ``page_id`` if ``user`` (a member) may read it, else None."""
    queryset = Page.objects.filter(pk=page_id).type(*study_material_types())
    return visibility.pages_visible_to(user, queryset).first()


def _whole_number(raw, form: bool) -> int | None:
    """A JSON integer (5 or 5.0) or, from a form, a string of digits; None for anything else."""
    if form:
        text = raw.strip() if isinstance(raw, str) else None
        return int(text) if text and text.lstrip("-").isdigit() and len(text) < 20 else None
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer() and abs(raw) < 2**63:
        return int(raw)
    return None


def parse_seconds(raw, form: bool = True) -> int:
    seconds = _whole_number(raw, form)
    if seconds is None or seconds > MAX_ID:
        raise Refused("seconds 须为整数（本次阅读的秒数）。")
    if seconds < 0:
        raise Refused("seconds 不能为负数。")
    return seconds


def parse_page_id(raw, form: bool = True) -> int:
    page_id = _whole_number(raw, form)
    if page_id is None or not 0 < page_id <= MAX_ID:
        raise Refused("page 须为学习资料页面的编号（正整数）。")
    return page_id


FORM_TRUE, FORM_FALSE = {"1", "true", "on", "yes"}, {"0", "false", "off", "no", ""}


def parse_opened(raw, form: bool = True) -> bool:
    if raw is None:
        return False
    if form and isinstance(raw, str) and raw.strip().lower() in FORM_TRUE | FORM_FALSE:
        return raw.strip().lower() in FORM_TRUE
    if not form and isinstance(raw, bool):
        return raw
    raise Refused("opened 须为布尔值（true 或 false）。")


def record_reading(
    user, page_id: int, seconds: int, opened: bool = False, now: datetime | None = None
) -> ReadingRecord:
    """Add one beacon to the member's row for the page and today; raises ``Refused``."""
    if not visibility.is_member(user):
        raise Refused("只有会员可以记录学习时间。", 403)
    page = readable_material(user, page_id)
    if page is None:
        raise Refused("没有这篇学习资料，或您无权阅读。", 403)
    now = now or timezone.now()
    day = timezone.localdate(now)
    seconds = min(seconds, MAX_BEACON_SECONDS)
    for _attempt in range(2):
        try:
            with transaction.atomic():
                row, created = ReadingRecord.objects.select_for_update().get_or_create(
                    user=user, page=page, day=day, defaults={"page_title": page.title[:255]}
                )
                if not created:
                    elapsed = max(0, int((now - row.updated_at).total_seconds())) + SLACK_SECONDS
                    seconds = min(seconds, elapsed)
                row.seconds = min(MAX_DAILY_SECONDS, row.seconds + seconds)
                row.opens += 1 if opened else 0
                row.page_title = page.title[:255]
                row.save()
                return row
        except IntegrityError:  # another beacon created the row meanwhile: add to it
            continue
    raise Refused("请稍后重试。", 409)


def record_attempt(
    sender=None, *, attempt, user, quiz, score, max_score, passed, **kwargs
) -> QuizRecord | None:
    """Receiver of ``members.quiz.signals.attempt_finished``: keep a copy (once per attempt). A failure
    here is logged, never raised: the member's submitted attempt stands whatever the records do."""
    if user is None or not getattr(user, "pk", None):
        return None
    try:
        with transaction.atomic():
            return _copy_attempt(attempt, user, quiz, score, max_score, passed)
    except Exception:  # noqa: BLE001 - logged; the quiz must not fail because of its record
        logger.exception("study records: could not record attempt %s", getattr(attempt, "pk", None))
        return None


def _copy_attempt(attempt, user, quiz, score, max_score, passed) -> QuizRecord:
    finished = (
        getattr(attempt, "finished_at", None) or getattr(attempt, "submitted_at", None) or timezone.now()
    )
    record, _created = QuizRecord.objects.get_or_create(
        attempt_id=attempt.pk,
        defaults={
            "user": user,
            "quiz_id": quiz.pk,
            "quiz_title": str(getattr(quiz, "title", "") or quiz)[:255],
            "score": float(score),
            "max_score": float(max_score),
            "passed": bool(passed),
            "finished_at": finished,
        },
    )
    return record


# -- periods and points ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    since: date
    until: date

    @classmethod
    def this_year(cls, today: date | None = None) -> Period:
        today = today or timezone.localdate()
        return cls(today.replace(month=1, day=1), today)

    @classmethod
    def last_days(cls, days: int, today: date | None = None) -> Period:
        today = today or timezone.localdate()
        return cls(today - timedelta(days=days - 1), today)

    def as_dict(self) -> dict:
        return {"since": self.since.isoformat(), "until": self.until.isoformat()}


EARLIEST, LATEST = date(1900, 1, 1), date(9000, 1, 1)  # datetimes beyond these overflow in some zones


def _bounds(period: Period) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    since = min(max(period.since, EARLIEST), LATEST)
    until = min(max(period.until, EARLIEST), LATEST)
    start = datetime.combine(since, datetime.min.time(), tzinfo=tz)
    end = datetime.combine(until + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    return start, end


def readings_in(period: Period) -> QuerySet[ReadingRecord]:
    return ReadingRecord.objects.filter(day__gte=period.since, day__lte=period.until)


def quizzes_in(period: Period) -> QuerySet[QuizRecord]:
    start, end = _bounds(period)
    return QuizRecord.objects.filter(finished_at__gte=start, finished_at__lt=end)


def daily_units(users: QuerySet | list | None, period: Period) -> dict[int, dict[tuple[date, str], int]]:
    """user id → (day, action) → units of that action on that day (minutes read, materials opened,
    quizzes taken, quizzes passed). ``users``: ids or a queryset of ids; None for everyone."""
    readings, quizzes = readings_in(period), quizzes_in(period)
    if users is not None:
        readings, quizzes = readings.filter(user__in=users), quizzes.filter(user__in=users)
    units: dict[int, dict[tuple[date, str], int]] = defaultdict(lambda: defaultdict(int))
    for row in (
        readings.values("user", "day").annotate(seconds=Sum("seconds"), materials=Count("pk")).order_by()
    ):
        per_user = units[row["user"]]
        per_user[(row["day"], Action.READING_MINUTES)] += row["seconds"] // 60
        per_user[(row["day"], Action.MATERIAL_OPENED)] += row["materials"]
    tz = timezone.get_current_timezone()
    for row in (
        quizzes.annotate(day=TruncDate("finished_at", tzinfo=tz))
        .values("user", "day", "passed")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        per_user = units[row["user"]]
        per_user[(row["day"], Action.QUIZ_TAKEN)] += row["n"]
        if row["passed"]:
            per_user[(row["day"], Action.QUIZ_PASSED)] += row["n"]
    return units


def points_from_units(units: dict[tuple[date, str], int], rules: list[PointsRule]) -> dict[str, int]:
    """Points per action from one member's daily units, each rule capped per day."""
    by_action: dict[str, int] = defaultdict(int)
    for (_day, action), count in units.items():
        for rule in rules:
            if rule.action != action or not count:
                continue
            earned = count * rule.points
            if rule.daily_cap:
                earned = min(earned, rule.daily_cap)
            by_action[action] += earned
    return dict(by_action)


def enabled_rules() -> list[PointsRule]:
    return list(PointsRule.objects.filter(enabled=True).order_by("action", "pk"))


def points(user, period: Period, rules: list[PointsRule] | None = None) -> dict:
    """A member's 学习积分 for ``period``: ``{"total": n, "by_action": {action: n}}``."""
    rules = enabled_rules() if rules is None else rules
    units = daily_units([user.pk], period).get(user.pk, {})
    by_action = points_from_units(units, rules)
    return {"total": sum(by_action.values()), "by_action": by_action}


def summary(user, period: Period) -> dict:
    readings = readings_in(period).filter(user=user)
    quizzes = quizzes_in(period).filter(user=user)
    reading = readings.aggregate(seconds=Sum("seconds"))
    earned = points(user, period)
    return {
        "period": period.as_dict(),
        "reading_seconds": reading["seconds"] or 0,
        "reading_minutes": (reading["seconds"] or 0) // 60,
        "materials_read": readings.values("page_title").distinct().count(),
        "quizzes_taken": quizzes.count(),
        "quizzes_passed": quizzes.filter(passed=True).count(),
        "points": earned["total"],
        "points_by_action": [
            {"action": value, "label": str(label), "points": earned["by_action"].get(value, 0)}
            for value, label in Action.choices
        ],
    }


def history(user, offset: int, limit: int) -> tuple[int, list[dict]]:
    """The member's history, newest first: reading days and quizzes, merged; (total count, items)."""
    readings = ReadingRecord.objects.filter(user=user).order_by("-day", "-updated_at", "-pk")
    quizzes = QuizRecord.objects.filter(user=user).order_by("-finished_at", "-pk")
    total = readings.count() + quizzes.count()
    wanted = offset + limit
    items = [("reading", r.day, r.updated_at, r) for r in readings[:wanted]]
    items += [("quiz", timezone.localdate(q.finished_at), q.finished_at, q) for q in quizzes[:wanted]]
    items.sort(key=lambda item: (item[1], item[2], item[0]), reverse=True)
    return total, [_history_item(kind, day, obj) for kind, day, _when, obj in items[offset:wanted]]


def _history_item(kind: str, day: date, obj) -> dict:
    if kind == "reading":
        return {
            "type": "reading",
            "date": day.isoformat(),
            "page": {"id": obj.page_id, "title": obj.page_title},
            "seconds": obj.seconds,
            "opens": obj.opens,
        }
    return {
        "type": "quiz",
        "date": day.isoformat(),
        "quiz": {"id": obj.quiz_id, "title": obj.quiz_title},
        "finished_at": obj.finished_at.isoformat(),
        "score": obj.score,
        "max_score": obj.max_score,
        "passed": obj.passed,
    }


# -- branch administrators ---------------------------------------------------------------------------------


def unit_of_member(user) -> Organisation | None:
    profile = getattr(user, "member_profile", None) if getattr(user, "pk", None) else None
    try:
        return profile.unit if profile is not None else None
    except Organisation.DoesNotExist:
        return None


def may_view_member(viewer, member) -> bool:
    """The member themself, or an administrator of the member's branch or a branch above."""
    if not getattr(viewer, "is_authenticated", False) or not viewer.is_active:
        return False
    if viewer.pk == member.pk:
        return True
    if viewer.is_superuser:
        return True
    from members.models import MemberProfile

    profile = MemberProfile.objects.filter(user=member).first()
    return profile is not None and units_managed_by(viewer).filter(pk=profile.unit_id).exists()


def may_view_participation(user) -> bool:
    return units_managed_by(user).exists()


@dataclass
class UnitRow:
    code: str
    name: str
    members: int = 0
    active_members: int = 0
    reading_minutes: int = 0
    quizzes_taken: int = 0
    total_points: int = 0
    pk: int = 0

    @property
    def average_points(self) -> float:
        return round(self.total_points / self.members, 1) if self.members else 0.0

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


def participation(viewer, period: Period) -> list[UnitRow]:
    """One row per unit ``viewer`` administers (their own and those below), members counted in the
    unit they belong to (not in the units above)."""
    from members.models import MemberProfile

    units = list(units_managed_by(viewer).order_by("code"))
    rows = {unit.pk: UnitRow(unit.code, unit.name, pk=unit.pk) for unit in units}
    member_unit = dict(MemberProfile.objects.filter(unit__in=rows.keys()).values_list("user_id", "unit_id"))
    for unit_id in member_unit.values():
        rows[unit_id].members += 1
    if not member_unit:
        return list(rows.values())
    user_ids = list(member_unit)
    readings = (
        readings_in(period).filter(user__in=user_ids).values("user").annotate(s=Sum("seconds")).order_by()
    )
    quizzes = quizzes_in(period).filter(user__in=user_ids).values("user").annotate(n=Count("pk")).order_by()
    active: set[int] = set()
    for row in readings:
        rows[member_unit[row["user"]]].reading_minutes += row["s"] // 60
        active.add(row["user"])
    for row in quizzes:
        rows[member_unit[row["user"]]].quizzes_taken += row["n"]
        active.add(row["user"])
    for user_id in active:
        rows[member_unit[user_id]].active_members += 1
    rules = enabled_rules()
    for user_id, units_of_user in daily_units(user_ids, period).items():
        rows[member_unit[user_id]].total_points += sum(points_from_units(units_of_user, rules).values())
    return list(rows.values())


@dataclass
class MemberRow:
    user_id: int
    username: str
    name: str
    reading_minutes: int = 0
    quizzes_taken: int = 0
    points: int = 0

    @property
    def pk(self) -> int:
        return self.user_id

    def __str__(self) -> str:
        return self.name or self.username


def unit_members(viewer, unit_pk: int, period: Period) -> tuple[Organisation, list[MemberRow]] | None:
    """The members of one unit ``viewer`` administers, with their figures; None outside their scope."""
    from members.models import MemberProfile
    from site_theme.account_views import display_name

    unit = units_managed_by(viewer).filter(pk=unit_pk).first()
    if unit is None:
        return None
    profiles = MemberProfile.objects.filter(unit=unit).select_related("user").order_by("user__username")
    rows = {p.user_id: MemberRow(p.user_id, p.user.get_username(), display_name(p.user)) for p in profiles}
    readings = readings_in(period).filter(user__in=rows).values("user").annotate(s=Sum("seconds")).order_by()
    for row in readings:
        rows[row["user"]].reading_minutes = row["s"] // 60
    for row in quizzes_in(period).filter(user__in=rows).values("user").annotate(n=Count("pk")).order_by():
        rows[row["user"]].quizzes_taken = row["n"]
    rules = enabled_rules()
    for user_id, units_of_user in daily_units(list(rows), period).items():
        rows[user_id].points = sum(points_from_units(units_of_user, rules).values())
    return unit, list(rows.values())


# -- retention ---------------------------------------------------------------------------------------------


def purge(days: int | None = None, now: datetime | None = None, dry_run: bool = False) -> dict[str, int]:
    """Delete records older than ``days`` (default ``SHUYUAN_STUDY_RECORDS_DAYS``); re-runnable."""
    days = retention_days() if days is None else days
    if days < 1:
        raise ValueError("days must be ≥ 1")
    now = now or timezone.now()
    cutoff_day = timezone.localdate(now) - timedelta(days=days)
    cutoff = datetime.combine(cutoff_day, datetime.min.time(), tzinfo=timezone.get_current_timezone())
    readings = ReadingRecord.objects.filter(day__lt=cutoff_day)
    quizzes = QuizRecord.objects.filter(finished_at__lt=cutoff)
    if dry_run:
        return {"readings": readings.count(), "quizzes": quizzes.count()}
    return {"readings": readings.delete()[0], "quizzes": quizzes.delete()[0]}
