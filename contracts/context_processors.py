from contracts import roles


def navigation(request):
    """The role of the signed-in person, so the base template can build its navigation."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"role": None, "staff_roles": set()}
    return {
        "role": roles.primary_role(user),
        "role_label": roles.ROLE_LABELS.get(roles.primary_role(user) or "", ""),
        "staff_roles": roles.staff_roles(user),
    }
