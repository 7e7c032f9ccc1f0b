"""The one-line include the lead adds to the study material template (report: "template include"):
members reading a material on the CMS get the beacon; the static publisher's copy of the same page
does not. Until the lead applies it, the test applies the same line to a copy of the template."""

from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.template.loader import get_template
from django.test import Client

from cms.visibility import members_group
from tests.api.helpers import make_user
from tests.factories import build_site

INCLUDE = "{% block extra_body %}{% load study_records_tags %}{% study_beacon page %}{% endblock %}\n"
TEMPLATE = "cms/study_material_page.html"


@pytest.fixture
def patched_templates(settings, tmp_path):
    source = Path(get_template(TEMPLATE).origin.name).read_text(encoding="utf-8")
    if "study_beacon" not in source:
        target = tmp_path / TEMPLATE
        target.parent.mkdir(parents=True)
        target.write_text(source + INCLUDE, encoding="utf-8")
        templates = [dict(django_settings.TEMPLATES[0])]
        templates[0]["DIRS"] = [str(tmp_path), *templates[0]["DIRS"]]
        settings.TEMPLATES = templates
    return settings


def test_members_get_the_beacon_on_the_cms_and_the_static_copy_never_does(db, patched_templates):
    from deploy.render import Renderer

    site = build_site(n_articles=1)
    material = site.materials[0]
    url = material.get_url()
    visitor = Client().get(url)
    assert visitor.status_code == 200 and b"study_records/beacon.js" not in visitor.content
    member = Client()
    member.force_login(make_user("reader", members_group()))
    html = member.get(url).content.decode()
    assert "study_records/beacon.js" in html and f'data-page="{material.pk}"' in html
    assert 'data-study-beacon="/api/v2/study/beacon/"' in html

    rendered = Renderer().render_page(material)
    assert rendered and material.title.encode() in rendered[0].body
    assert all(b"beacon" not in obj.body for obj in rendered)
