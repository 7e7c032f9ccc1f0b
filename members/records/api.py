"""学习记录 in the headless API (member tokens): URL patterns under /api/v2/ and their OpenAPI paths."""

urlpatterns: list = []


def openapi_paths() -> dict:
    """OpenAPI path items of this part, merged into cms.api.openapi.build_schema."""
    return {}


def openapi_components() -> dict:
    """OpenAPI component schemas of this part (names must not clash with the core's)."""
    return {}
