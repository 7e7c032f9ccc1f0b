"""The scanner: what it reports (markers, identity and mobile numbers, the editors' lists) and what it
does not (揭秘, 秘密 in party history, an 18-digit number with a wrong check character)."""

from __future__ import annotations

import pytest

from cms.secrecy.scanner import (
    ID_NUMBER,
    MARKER,
    MOBILE,
    SENSITIVE,
    WRONG_FORM,
    Vocabulary,
    scan_text,
    valid_id_number,
)

VALID_ID = "11010519491231002X"  # the check character of GB 11643's example


def kinds(text, vocabulary=None):
    return [(f.kind, f.text) for f in scan_text(text, "正文", vocabulary or Vocabulary())]


def test_ordinary_words_are_not_findings():
    assert kinds("揭秘红色交通线：当年的秘密交通线如何运作") == []
    assert kinds("机关党建信息化平台") == []
    assert kinds("编号 110105194912310021 与 12345678901") == []  # wrong check character; not a mobile


def test_markers_are_findings():
    assert kinds("机密") == [(MARKER, "机密")]
    assert kinds("绝密★长期") == [(MARKER, "绝密"), (MARKER, "★")]
    assert (MARKER, "秘密") in kinds("秘密★1年")
    assert kinds("【秘密】") == [(MARKER, "秘密")]
    assert kinds("本材料为内部资料，注意保密") == [(MARKER, "内部资料"), (MARKER, "注意保密")]
    assert kinds("機密") == [(MARKER, "機密")]  # traditional characters too


def test_identity_and_mobile_numbers_are_masked():
    assert valid_id_number(VALID_ID)
    assert kinds(f"身份证{VALID_ID}，电话13812345678") == [(ID_NUMBER, "110***********002X"), (MOBILE, "138****5678")]


def test_editors_lists():
    vocabulary = Vocabulary(["某敏感词"], [("党支部书纪", "党支部书记"), ("书记处", "中央书记处")])
    found = list(scan_text("某敏感词出现在党支部书纪的讲话中", "摘要", vocabulary))
    assert [(f.kind, f.text) for f in found] == [(SENSITIVE, "某敏感词"), (WRONG_FORM, "党支部书纪")]
    assert found[1].suggestion == "改为「党支部书记」"
    assert found[1].place == "摘要"
    # a wrong form inside its own right form is not a finding
    assert kinds("中央书记处", vocabulary) == []


@pytest.mark.django_db
def test_the_lists_are_snippets():
    from cms.secrecy.models import PreferredTerm, SensitiveWord

    SensitiveWord.objects.create(word="敏感甲")
    PreferredTerm.objects.create(wrong="人大常委会主任", correct="全国人大常委会委员长")
    vocabulary = Vocabulary.load()
    assert vocabulary.sensitive == ["敏感甲"]
    assert vocabulary.wrong_forms == [("人大常委会主任", "全国人大常委会委员长")]
