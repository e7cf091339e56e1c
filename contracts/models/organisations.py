"""Customer organisations, the people who sign in, and the services sold."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q

from contracts.validators import validate_email_list, validate_time_zone


class Customer(models.Model):
    name = models.CharField(max_length=200, unique=True)
    billing_emails = models.TextField(
        validators=[validate_email_list],
        help_text="Billing contacts, separated by commas.",
    )
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    account_managers = models.ManyToManyField(
        "contracts.User",
        blank=True,
        related_name="managed_customers",
        limit_choices_to={"groups__name": "account_manager"},
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(name=""),
                name="customer_name_not_blank",
                violation_error_message="Give the customer a name.",
            ),
            models.CheckConstraint(
                condition=~Q(billing_emails=""),
                name="customer_billing_emails_not_blank",
                violation_error_message="Give at least one billing e-mail.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def billing_email_list(self) -> list[str]:
        return [e.strip() for e in self.billing_emails.replace(";", ",").split(",") if e.strip()]


class User(AbstractUser):
    """A person. Customer people belong to one organisation; staff belong to none and
    carry their roles as groups (agent, operations, account_manager, admin)."""

    class CustomerRole(models.TextChoices):
        USER = "user", "Customer user"
        ADMIN = "admin", "Customer admin"

    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="members"
    )
    customer_role = models.CharField(max_length=10, choices=CustomerRole.choices, blank=True)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    # What this person is e-mailed about (their profile page); receipts, security mail
    # and escalations are always sent.
    email_ticket_updates = models.BooleanField(
        default=True,
        help_text="Replies and status changes on tickets I filed or watch.",
    )
    email_desk_alerts = models.BooleanField(
        default=True,
        help_text="Support staff: new tickets and customer replies on my tickets, "
        "or on any unassigned ticket.",
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(customer__isnull=True, customer_role="")
                | Q(customer__isnull=False, customer_role__in=["user", "admin"]),
                name="user_customer_role_matches_customer",
                violation_error_message="A customer person needs a role (user or admin); staff have none.",
            ),
            models.CheckConstraint(
                condition=Q(customer__isnull=True) | Q(is_staff=False, is_superuser=False),
                name="user_customer_people_are_not_staff",
                violation_error_message="Customer people cannot be staff.",
            ),
        ]

    def save(self, *args, **kwargs) -> None:
        # set_password() keeps the new raw password until the save: a new password
        # revokes every API token (slaportal/tokens.py); sessions elsewhere end by
        # Django's session hash.
        password_changed = getattr(self, "_password", None) is not None and self.pk is not None
        super().save(*args, **kwargs)
        if password_changed:
            self.auth_token_set.all().delete()

    @property
    def is_customer_admin(self) -> bool:
        return self.customer_id is not None and self.customer_role == self.CustomerRole.ADMIN


class Service(models.Model):
    code = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=200, unique=True)
    critical = models.BooleanField(
        default=True, help_text="Downtime of a critical service counts towards availability."
    )
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
