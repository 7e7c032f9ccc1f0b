"""Admin wiring: the 会员参与 menu and the audit-log label of a sent reminder."""

from wagtail import hooks
from wagtail.permissions import register_permission_policy

from .models import Delivery
from .services import SEND_ACTION
from .views import DeliveryPolicy, MembersGroup

register_permission_policy(Delivery, DeliveryPolicy(Delivery))


@hooks.register("register_admin_viewset")
def register_members_viewsets():
    return MembersGroup()


@hooks.register("register_log_actions")
def members_log_actions(actions):
    actions.register_action(SEND_ACTION, "发送提醒", "发送提醒（会员参与）")
