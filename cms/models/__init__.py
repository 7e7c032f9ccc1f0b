"""Shuyuan's content model: page types (``pages``) and editable taxonomies (``snippets``)."""

from .changes import ChangeCursor, ContentChange
from .pages import (
    ArticlePage,
    ArticleTag,
    AudienceMixin,
    ColumnPage,
    ExhibitionPage,
    HomePage,
    RedExhibitionIndexPage,
    RedExhibitionPage,
    ShuyuanPage,
    StudyLibraryPage,
    StudyMaterialAttachment,
    StudyMaterialPage,
)
from .snippets import MaterialType, RedExhibitionCategory, Topic

__all__ = [
    "ArticlePage",
    "ArticleTag",
    "AudienceMixin",
    "ChangeCursor",
    "ColumnPage",
    "ContentChange",
    "ExhibitionPage",
    "HomePage",
    "MaterialType",
    "RedExhibitionCategory",
    "RedExhibitionIndexPage",
    "RedExhibitionPage",
    "ShuyuanPage",
    "StudyLibraryPage",
    "StudyMaterialAttachment",
    "StudyMaterialPage",
    "Topic",
]
