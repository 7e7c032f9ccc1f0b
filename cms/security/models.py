"""What the security app stores of its own: password history (hashes only)."""

from django.conf import settings
from django.db import models


class PasswordHistory(models.Model):
    """One password a user has had, as a Django password hash, so the policy can refuse reusing the
    last few (``cms.security.passwords.PasswordHistoryValidator``); the newest row also says when the
    password was last changed, for expiry."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="password_history"
    )
    password = models.CharField("密码哈希", max_length=255)
    created_at = models.DateTimeField("设置时间", auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "历史密码"
        verbose_name_plural = "历史密码"
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "-created_at"], name="security_pwhist_user_idx")]

    def __str__(self):
        return f"{self.user} @ {self.created_at:%Y-%m-%d %H:%M}"
