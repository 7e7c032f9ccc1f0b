"""Who may read the audit log: the audit administrator only (三员分立).

Superusers hold every permission in Django, so the check does not rest on ``has_perm`` alone: a
superuser reads the log only when ``SHUYUAN_AUDIT_SUPERUSERS_MAY_READ`` is on (a small organisation
where one person is every administrator).
"""

from .conf import superusers_may_read
from .roles import AUDIT_ADMINS, VIEW_AUDIT_LOG


def can_read_audit_log(user) -> bool:
    if not (user.is_authenticated and user.is_active):
        return False
    if user.is_superuser:
        return superusers_may_read()
    return user.has_perm(VIEW_AUDIT_LOG) and user.groups.filter(name=AUDIT_ADMINS).exists()
