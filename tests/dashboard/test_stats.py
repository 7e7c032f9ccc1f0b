"""The dashboard's figures equal direct queries of the database, and only admin users see them."""

from __future__ import annotations

import csv
import datetime as dt
import io

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone
from wagtail.models import GroupApprovalTask, Page, TaskState, Workflow, WorkflowState

from cms.dashboard import stats
from cms.dashboard.views import CSV_HEADER
from cms.models import ArticlePage, ColumnPage, ExhibitionPage, RedExhibitionPage, StudyMaterialPage
from search.models import QueryLog
from tests.factories import ArticlePageFactory, build_site

User = get_user_model()


def admin_user(username: str, *perms: str):
    """An account that may enter the admin (and hold ``perms``), not a superuser."""
    user = User.objects.create_user(username, "", "pw")
    group = Group.objects.create(name=f"看板测试-{username}")
    group.permissions.add(Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin"))
    for perm in perms:
        app, codename = perm.split(".")
        group.permissions.add(Permission.objects.get(content_type__app_label=app, codename=codename))
    user.groups.add(group)
    return user


class DashboardAccessTests(TestCase):
    """Negative cases first: who must not see the figures."""

    @classmethod
    def setUpTestData(cls):
        cls.tree = build_site(n_articles=2)

    def test_anonymous_cannot_export(self):
        response = self.client.get(reverse("dashboard_manuscripts_csv"))
        self.assertEqual(response.status_code, 302)
        self.assertNotIn("text/csv", response.get("Content-Type", ""))

    def test_user_without_admin_access_gets_no_csv(self):
        self.client.force_login(User.objects.create_user("member", "", "pw"))
        response = self.client.get(reverse("dashboard_manuscripts_csv"))
        self.assertNotEqual(response.status_code, 200)
        self.assertNotIn("text/csv", response.get("Content-Type", ""))

    def test_admin_user_without_search_or_publish_rights_sees_no_search_or_publish_sections(self):
        self.client.force_login(admin_user("plain"))
        html = self.client.get(reverse("wagtailadmin_home")).content.decode()
        self.assertIn('data-dashboard="months"', html)
        self.assertNotIn('data-dashboard="search-top"', html)
        self.assertNotIn('data-dashboard="publishing"', html)

    def test_rights_show_the_sections(self):
        self.client.force_login(admin_user("analyst", "search.view_querylog", "deploy.view_publishrun"))
        html = self.client.get(reverse("wagtailadmin_home")).content.decode()
        self.assertIn('data-dashboard="search-top"', html)
        self.assertIn('data-dashboard="publishing"', html)
        self.assertIn("<svg", html)
        self.assertIn("dashboard/dashboard.css", html)
        self.assertNotIn("<script>", html.split('class="shuyuan-dashboard"', 1)[1].split("</section>", 1)[0])


class FigureTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.tree = build_site(n_articles=3)
        cls.alice = User.objects.create_user("alice", "", "pw", first_name="王丽")
        cls.bob = User.objects.create_user("bob", "", "pw")
        for i, article in enumerate(cls.tree.articles):
            article.owner = cls.alice if i else cls.bob
            article.save()
        # one article published ~ 2 months ago, one draft (never counted)
        old = cls.tree.articles[0]
        Page.objects.filter(pk=old.pk).update(first_published_at=timezone.now() - dt.timedelta(days=62))
        draft = ArticlePageFactory(parent=cls.tree.notices, live=False, owner=cls.alice)
        cls.draft = draft

    def direct_items(self):
        """Live pages of the item types in zh-hans, by content type (not through the code under test)."""
        types = ContentType.objects.get_for_models(ArticlePage, StudyMaterialPage, ExhibitionPage, RedExhibitionPage)
        return Page.objects.filter(live=True, locale__language_code="zh-hans", content_type__in=types.values())

    def test_draft_and_listing_pages_are_not_items(self):
        ids = set(stats.published_items().values_list("pk", flat=True))
        self.assertNotIn(self.draft.pk, ids)
        self.assertNotIn(self.tree.news.pk, ids)
        self.assertNotIn(self.tree.home.pk, ids)

    def test_total_matches_direct_query(self):
        self.assertEqual(stats.published_items().count(), self.direct_items().count())
        self.assertEqual(sum(r["items"] for r in stats.manuscripts()), self.direct_items().count())

    def test_per_column_matches_direct_query(self):
        expected = {
            column.title: ArticlePage.objects.live().child_of(column).filter(locale__language_code="zh-hans").count()
            for column in ColumnPage.objects.all()
        }
        got = dict(stats.by_column())
        for title, n in expected.items():
            self.assertEqual(got.get(title, 0), n, title)
        self.assertEqual(sum(got.values()), ArticlePage.objects.live().count())

    def test_per_month_matches_direct_query(self):
        today = timezone.localdate()
        got = dict(stats.by_month(12, today))
        self.assertEqual(len(got), 12)
        for label, n in got.items():
            year, month = map(int, label.split("-"))
            start = timezone.make_aware(dt.datetime(year, month, 1))
            end = timezone.make_aware(dt.datetime(year + month // 12, month % 12 + 1, 1))
            direct = self.direct_items().filter(first_published_at__gte=start, first_published_at__lt=end).count()
            self.assertEqual(n, direct, label)
        self.assertGreaterEqual(sum(got.values()), 1)

    def test_per_editor_matches_direct_query(self):
        rows = stats.manuscripts()
        for user in (self.alice, self.bob):
            direct = self.direct_items().filter(owner=user).count()
            self.assertEqual(sum(r["items"] for r in rows if r["username"] == user.username), direct)
        self.assertEqual(dict(stats.by_editor(rows))["王丽（alice）"], self.direct_items().filter(owner=self.alice).count())

    def test_per_unit_uses_the_closest_root_page(self):
        from cms.orgs.models import Organisation

        top = Organisation.objects.create(code="01", name="党委", root_page=self.tree.home)
        Organisation.objects.create(code="0101", name="第一支部", parent=top, root_page=self.tree.news)
        rows = stats.manuscripts()
        per_unit = {}
        for r in rows:
            per_unit[r["unit_code"]] = per_unit.get(r["unit_code"], 0) + r["items"]
        in_branch = self.direct_items().filter(path__startswith=self.tree.news.path).count()
        self.assertEqual(per_unit["0101"], in_branch)
        self.assertEqual(per_unit["01"], self.direct_items().count() - in_branch)
        self.assertEqual(dict(stats.by_unit(rows))["0101 第一支部"], in_branch)

    def test_pending_approvals_match_workflow_states(self):
        workflow = Workflow.objects.create(name="看板测试流程")
        task = GroupApprovalTask.objects.create(name="支部审核")
        workflow.workflow_tasks.create(task=task, sort_order=0)
        # the rows Workflow.start writes, made directly: this test counts them, whatever the approval
        # app's signals do when a workflow starts
        for i, article in enumerate(self.tree.articles):
            revision = article.save_revision(user=self.alice)
            state = WorkflowState.objects.create(
                content_type=article.get_content_type(), base_content_type=article.get_base_content_type(),
                object_id=str(article.pk), workflow=workflow, requested_by=self.alice,
                status="in_progress" if i < 2 else "approved",
            )
            state.current_task_state = TaskState.objects.create(
                workflow_state=state, revision=revision, task=task, status="in_progress" if i < 2 else "approved"
            )
            state.save()
        got = stats.pending_approvals()
        self.assertEqual(got["total"], WorkflowState.objects.filter(status="in_progress").count())
        self.assertEqual(got["total"], 2)
        self.assertEqual(dict(got["by_task"])["支部审核"], 2)

    def test_pending_secrecy_reviews_match_holds(self):
        from cms.secrecy.models import SecrecyHold, SecrecyReview

        before = stats.pending_secrecy_reviews()
        for i, article in enumerate(self.tree.articles):
            decision = SecrecyReview.Decision.PENDING if i < 2 else SecrecyReview.Decision.CLEARED
            review = SecrecyReview.objects.create(
                page=article, title=article.title, classification="public", decision=decision, findings=[{"x": 1}]
            )
            if i < 2:
                SecrecyHold.objects.update_or_create(page=article, defaults={"review": review})
            else:
                SecrecyHold.objects.filter(page=article).delete()
        direct = SecrecyHold.objects.filter(review__decision="pending").count()
        self.assertEqual(stats.pending_secrecy_reviews(), direct)
        self.assertGreaterEqual(direct, 2)
        self.assertGreaterEqual(direct, before or 0)

    def test_publishing_counts_match_runs(self):
        from deploy.models import PublishRun

        PublishRun.objects.create(status=PublishRun.Status.SUCCEEDED, mode="full")
        PublishRun.objects.create(status=PublishRun.Status.FAILED, mode="incremental", error="目标不可达")
        PublishRun.objects.create(status=PublishRun.Status.FAILED, mode="incremental",
                                  started_at=timezone.now() - dt.timedelta(days=40))
        got = stats.publishing(days=30)
        self.assertEqual(dict(got["by_status"])["失败"], 1)
        self.assertEqual(dict(got["by_status"])["成功"], 1)
        self.assertEqual(got["failed"], 1)
        self.assertEqual([r.error for r in got["failures"]], ["目标不可达"])

    def test_search_top_and_zero_queries(self):
        for q, n in [("党建", 5), ("党建", 3), ("三会一课", 0), ("三会一课", 0), ("不存在", 0)]:
            QueryLog.objects.create(query=q, results=n, scope="public")
        got = stats.search()
        self.assertEqual(dict(got["top_chart"]), {"党建": 2, "三会一课": 2, "不存在": 1})
        self.assertEqual(dict(got["zero_chart"]), {"三会一课": 2, "不存在": 1})

    def test_csv_export_has_unit_and_editor(self):
        from cms.orgs.models import Organisation

        Organisation.objects.create(code="01", name="党委", root_page=self.tree.home)
        self.client.force_login(admin_user("viewer"))
        response = self.client.get(reverse("dashboard_manuscripts_csv"))
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response["Content-Type"].startswith("text/csv"))
        text = response.content.decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text)))
        self.assertEqual(rows[0], CSV_HEADER)
        by_user = {r[3]: r for r in rows[1:]}
        self.assertEqual(by_user["alice"][:3], ["01", "党委", "王丽"])
        self.assertEqual(int(by_user["alice"][4]), self.direct_items().filter(owner=self.alice).count())
        self.assertEqual(sum(int(r[4]) for r in rows[1:]), self.direct_items().count())

    def test_home_renders_for_superuser(self):
        self.client.force_login(User.objects.create_superuser("root", "", "pw"))
        response = self.client.get(reverse("wagtailadmin_home"))
        self.assertEqual(response.status_code, 200)
        html = response.content.decode()
        self.assertIn("数据看板", html)
        self.assertIn('aria-label="每月发布"', html)


class UnitScopeTests(TestCase):
    """分级维护: a branch's accounts see their own branch's figures, the committee the whole site."""

    @classmethod
    def setUpTestData(cls):
        from cms.orgs.services import create_unit

        cls.tree = build_site(n_articles=1)
        committee = create_unit("01", "示范党委", root_page=cls.tree.home)
        cls.one = create_unit("0101", "第一支部", parent=committee, publish=True)
        cls.two = create_unit("0102", "第二支部", parent=committee, publish=True)
        cls.editor1 = User.objects.create_user("editor1", "", "pw")
        cls.editor1.groups.add(cls.one.editors_group)
        cls.committee_reviewer = User.objects.create_user("creviewer", "", "pw")
        cls.committee_reviewer.groups.add(committee.reviewers_group)
        for parent, n in ((cls.one, 2), (cls.two, 3)):
            for _ in range(n):
                ArticlePageFactory(parent=parent.root_page.specific)

    def test_a_branch_editor_does_not_see_a_siblings_figures(self):
        scope = stats.scope_for(self.editor1)
        rows = stats.manuscripts(scope)
        self.assertEqual({r["unit_code"] for r in rows}, {"0101"})
        self.assertEqual(sum(r["items"] for r in rows), 2)
        self.client.force_login(self.editor1)
        body = self.client.get(reverse("dashboard_manuscripts_csv")).content.decode("utf-8-sig")
        self.assertNotIn("第二支部", body)
        self.assertIn("第一支部", body)
        html = self.client.get(reverse("wagtailadmin_home")).content.decode()
        self.assertIn('data-dashboard="scope"', html)

    def test_the_committee_sees_every_unit(self):
        self.assertIsNone(stats.scope_for(self.committee_reviewer))
        rows = stats.manuscripts(stats.scope_for(self.committee_reviewer))
        expected = published = stats.published_items().count()
        self.assertEqual(sum(r["items"] for r in rows), expected)
        self.assertGreaterEqual(published, 5)
