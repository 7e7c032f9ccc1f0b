"""Demo content of 问卷与信箱: a public survey open now, a members-only survey, and the mailbox with two
letters, one of them (its writer agreed) answered in public. Idempotent: pages are found by slug."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.utils import timezone
from wagtail.contrib.forms.models import FormSubmission

from cms.visibility import Audience

from .models import LetterReply, MailboxPage, SurveyFormField, SurveyPage

PUBLIC_QUESTIONS = [
    ("您对书苑网站的总体满意度", "radio", True, "非常满意\n满意\n一般\n不满意"),
    ("您最常使用的栏目（可多选）", "checkboxes", False, "新闻动态\n党建书苑\n线上展览\n红色云图"),
    ("您通常通过什么设备访问", "dropdown", True, "电脑\n手机\n平板"),
    ("您的意见和建议", "multiline", False, ""),
]
MEMBERS_QUESTIONS = [
    ("本年度您参加“三会一课”的次数", "radio", True, "12次以上\n6-12次\n6次以下"),
    ("您希望增加哪类学习资料（可多选）", "checkboxes", False, "理论文章\n微党课视频\n案例汇编\n测评题库"),
    ("对支部组织生活的建议", "multiline", False, ""),
]
LETTERS = [
    (
        {"subject": "建议增加学习资料的音频版", "body": "通勤路上不方便看文字，希望书苑的学习资料能提供音频朗读。",
         "name": "张同志", "contact": "zhang@example.org", "consent": True},
        ("感谢您的建议。编辑部已在“微党课”栏目试点音频版，年内将逐步扩展到更多学习资料。", "书苑编辑部"),
    ),
    (
        {"subject": "关于支部活动场地的反映", "body": "我所在支部的活动室近期被占用，希望协调解决。",
         "name": "", "contact": "13800000000", "consent": False},
        None,
    ),
]


def _survey(home, slug, title, audience, questions, intro, closes) -> SurveyPage:
    page = home.get_children().filter(slug=slug).first()
    if page is not None:
        return page.specific
    page = SurveyPage(slug=slug, title=title, audience=audience, intro=f"<p>{intro}</p>",
                      thank_you_text="<p>感谢您的参与，您的意见对我们很重要。</p>",
                      opens_at=timezone.now() - dt.timedelta(days=1), closes_at=closes)
    for order, (label, kind, required, choices) in enumerate(questions):
        page.form_fields.add(SurveyFormField(sort_order=order, label=label, field_type=kind, required=required, choices=choices))
    home.add_child(instance=page)
    page.save_revision().publish()
    return page


def load(home, log: Callable[[str], None]) -> None:
    closes = timezone.now() + dt.timedelta(days=60)
    _survey(home, "satisfaction-2026", "2026年度会员满意度调查", Audience.PUBLIC, PUBLIC_QUESTIONS,
            "为进一步改进书苑的内容与服务，请您抽出两分钟填写本问卷。", closes)
    _survey(home, "members-survey-2026", "支部组织生活情况调查（仅会员）", Audience.MEMBERS, MEMBERS_QUESTIONS,
            "本调查仅面向登录会员，结果用于改进支部组织生活。", closes)
    mailbox = home.get_children().filter(slug="mailbox").first()
    if mailbox is None:
        mailbox = MailboxPage(slug="mailbox", title="对话信箱", audience=Audience.PUBLIC,
                              intro="<p>欢迎来信反映意见和建议。同意公开的来信，编辑部回复后将在本页公开（不含姓名和联系方式）。</p>")
        home.add_child(instance=mailbox)
        mailbox.save_revision().publish()
    else:
        mailbox = mailbox.specific
    made = 0
    for data, reply in LETTERS:
        if FormSubmission.objects.filter(page=mailbox, form_data__subject=data["subject"]).exists():
            continue
        submission = FormSubmission.objects.create(page=mailbox, form_data=data)
        if reply:
            LetterReply.objects.create(submission=submission, text=reply[0], replier=reply[1], published=True)
        made += 1
    log(f"问卷与信箱：2 份问卷，1 个信箱，新增来信 {made} 封")
