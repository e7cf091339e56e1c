from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class PortalBackend(ModelBackend):
    """Django's backend, plus: people of a deactivated customer cannot sign in, and a
    session of theirs stops working at the next request."""

    def user_can_authenticate(self, user) -> bool:
        if not super().user_can_authenticate(user):
            return False
        return user.customer_id is None or user.customer.is_active

    def get_user(self, user_id):
        model = get_user_model()
        try:
            user = model._default_manager.select_related("customer").get(pk=user_id)
        except model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
