"""Demo content of 题库与在线测评: a dozen questions on 党章, 三会一课 and 发展党员 (with explanations),
one fixed quiz and one random quiz. Idempotent: questions are found by their stem, quizzes by title."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

from .models import Kind, Mode, PartialCredit, Question, QuestionChoice, QuestionMaterial, Quiz, QuizQuestion

TOPIC = ("rules", "党章党规")
TRUE_FALSE = ("正确", "错误")

# (kind, stem, [(choice, correct)], explanation, points)
QUESTIONS = [
    (
        Kind.MULTIPLE,
        "“三会一课”中的“三会”是指哪些会议？",
        [("支部党员大会", True), ("党支部委员会会议", True), ("党小组会", True), ("党员代表大会", False)],
        "“三会一课”是党的组织生活的基本制度：“三会”指支部党员大会、党支部委员会会议和党小组会，“一课”指党课。",
        2,
    ),
    (
        Kind.SINGLE,
        "“三会一课”中的“一课”指的是什么？",
        [("党课", True), ("团课", False), ("业务培训课", False), ("形势报告会", False)],
        "“一课”指按时上好党课。",
        1,
    ),
    (
        Kind.SINGLE,
        "按照《中国共产党支部工作条例（试行）》，党支部委员会会议一般多长时间召开一次？",
        [("每月一次", True), ("每季度一次", False), ("每半年一次", False), ("每年一次", False)],
        "支部工作条例规定：党员大会一般每季度召开1次，党小组会一般每月召开1次，党支部委员会会议一般每月召开1次。",
        1,
    ),
    (
        Kind.SINGLE,
        "按照《中国共产党支部工作条例（试行）》，支部党员大会一般多长时间召开一次？",
        [("每月一次", False), ("每季度一次", True), ("每半年一次", False), ("每年一次", False)],
        "支部工作条例规定：党员大会一般每季度召开1次，党小组会一般每月召开1次，党支部委员会会议一般每月召开1次。",
        1,
    ),
    (
        Kind.SINGLE,
        "党章规定，预备党员的预备期为多长时间？",
        [("半年", False), ("一年", True), ("两年", False), ("三年", False)],
        "党章规定：预备党员的预备期为一年。",
        1,
    ),
    (
        Kind.SINGLE,
        "预备党员的预备期从什么时候算起？",
        [
            ("支部大会通过他为预备党员之日", True),
            ("递交入党申请书之日", False),
            ("上级党组织批准之日", False),
            ("入党宣誓之日", False),
        ],
        "党章规定：预备党员的预备期，从支部大会通过他为预备党员之日算起。",
        1,
    ),
    (
        Kind.SINGLE,
        "党章规定，年满多少岁的中国工人、农民、军人、知识分子和其他社会阶层的先进分子，可以申请加入中国共产党？",
        [("十六岁", False), ("十八岁", True), ("二十岁", False), ("二十二岁", False)],
        "党章规定：年满十八岁的中国工人、农民、军人、知识分子和其他社会阶层的先进分子，承认党的纲领和章程，"
        "愿意参加党的一个组织并在其中积极工作、执行党的决议和按期交纳党费的，可以申请加入中国共产党。",
        1,
    ),
    (
        Kind.TRUE_FALSE,
        "申请入党的人，要填写入党志愿书，要有两名正式党员作介绍人。",
        [(TRUE_FALSE[0], True), (TRUE_FALSE[1], False)],
        "党章规定：申请入党的人，要填写入党志愿书，要有两名正式党员作介绍人，要经过支部大会通过和上级党组织批准，并且经过预备期的考察，才能成为正式党员。",
        1,
    ),
    (
        Kind.TRUE_FALSE,
        "预备党员在预备期内享有表决权、选举权和被选举权。",
        [(TRUE_FALSE[0], False), (TRUE_FALSE[1], True)],
        "党章规定：预备党员的义务同正式党员一样；预备党员的权利，除了没有表决权、选举权和被选举权以外，也同正式党员一样。",
        1,
    ),
    (
        Kind.TRUE_FALSE,
        "党员的党龄，从预备期满转为正式党员之日算起。",
        [(TRUE_FALSE[0], True), (TRUE_FALSE[1], False)],
        "党章规定：党员的党龄，从预备期满转为正式党员之日算起。",
        1,
    ),
    (
        Kind.TRUE_FALSE,
        "党员如果没有正当理由，连续六个月不参加党的组织生活，或不交纳党费，或不做党所分配的工作，就被认为是自行脱党。",
        [(TRUE_FALSE[0], True), (TRUE_FALSE[1], False)],
        "党章规定：党员如果没有正当理由，连续六个月不参加党的组织生活，或不交纳党费，或不做党所分配的工作，"
        "就被认为是自行脱党。支部大会应当决定把这样的党员除名，并报上级党组织批准。",
        1,
    ),
    (
        Kind.MULTIPLE,
        "入党誓词中包含下列哪些内容？",
        [
            ("拥护党的纲领，遵守党的章程", True),
            ("履行党员义务，执行党的决定", True),
            ("严守党的纪律，保守党的秘密", True),
            ("只对上级个人负责", False),
        ],
        "入党誓词：我志愿加入中国共产党，拥护党的纲领，遵守党的章程，履行党员义务，执行党的决定，严守党的纪律，"
        "保守党的秘密，对党忠诚，积极工作，为共产主义奋斗终身，随时准备为党和人民牺牲一切，永不叛党。",
        2,
    ),
    (
        Kind.SINGLE,
        "党的最高领导机关是什么？",
        [
            ("党的全国代表大会和它所产生的中央委员会", True),
            ("党的中央纪律检查委员会", False),
            ("党的地方各级代表大会", False),
            ("党的基层组织", False),
        ],
        "党章规定：党的最高领导机关，是党的全国代表大会和它所产生的中央委员会。",
        1,
    ),
]

FIXED_QUIZ = "党章与“三会一课”基础知识测评"
RANDOM_QUIZ = "党章党规随机小测"


def _topic(home):
    from cms.models.snippets import Topic

    slug, name = TOPIC
    topic, _created = Topic.objects.get_or_create(slug=slug, locale=home.locale, defaults={"name": name})
    return topic


def _material(home, topic):
    from cms.models.pages import StudyMaterialPage

    return StudyMaterialPage.objects.descendant_of(home).filter(topics=topic).order_by("path").first()


@transaction.atomic
def load(home, log: Callable[[str], None]) -> None:
    """Questions, a fixed quiz and a random quiz for ``home``'s language (the demo's zh-hans home)."""
    topic = _topic(home)
    material = _material(home, topic)
    questions, made = [], 0
    for kind, stem, choices, explanation, points in QUESTIONS:
        question = Question.objects.filter(stem=stem).order_by("pk").first()
        if question is None:
            question = Question(kind=kind, stem=stem, explanation=explanation, points=points)
            question.save()
            QuestionChoice.objects.bulk_create(
                QuestionChoice(question=question, text=text, is_correct=ok, sort_order=i)
                for i, (text, ok) in enumerate(choices)
            )
            question.topics.add(topic)
            question.save()  # ParentalManyToManyField links are written on save
            if material is not None:
                QuestionMaterial.objects.create(question=question, page=material)
            made += 1
        questions.append(question)
    fixed, created_fixed = Quiz.objects.get_or_create(
        title=FIXED_QUIZ,
        defaults={
            "intro": "共 8 题，不限时，及格线 60%。多选题少选得一半分，错选不得分；可重做，最多 3 次。",
            "mode": Mode.FIXED,
            "pass_mark": 60,
            "partial_credit": PartialCredit.HALF,
            "allow_retries": True,
            "max_attempts": 3,
        },
    )
    if created_fixed:
        QuizQuestion.objects.bulk_create(
            QuizQuestion(quiz=fixed, question=question, sort_order=i) for i, question in enumerate(questions[:8])
        )
    _random, created_random = Quiz.objects.get_or_create(
        title=RANDOM_QUIZ,
        defaults={
            "intro": "每次从“党章党规”专题随机抽取 5 题，不限时，可反复练习。多选题按比例得分，错选不得分。",
            "mode": Mode.RANDOM,
            "topic": topic,
            "draw_count": 5,
            "pass_mark": 60,
            "partial_credit": PartialCredit.PROPORTIONAL,
            "allow_retries": True,
        },
    )
    if made or created_fixed or created_random:
        log(f"题库：新增 {made} 道试题，测评 {int(created_fixed) + int(created_random)} 个。")
