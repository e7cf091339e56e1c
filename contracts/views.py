from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect

ROLE_HOMES = {
    "customer_user": "portal-home",
    "customer_admin": "portal-home",
    "agent": "desk-home",
    "operations": "ops-home",
    "account_manager": "am-home",
    "admin": "backoffice-home",
}


@login_required
def home(request):
    from contracts.roles import primary_role

    return redirect(ROLE_HOMES.get(primary_role(request.user) or "", "login"))
