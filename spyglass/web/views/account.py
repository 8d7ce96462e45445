"""Sign in, sign out, password change, the account-group switcher, the profile page (API token, roles) and the
organization's settings (its time zone)."""

from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from spyglass.accounts import failed_logins
from spyglass.accounts.models import ApiToken, Membership
from spyglass.accounts.roles import access_for
from spyglass.accounts.services import UserInputError, set_time_zone, time_zone_names
from spyglass.lib.text import is_digits
from spyglass.sharing.reports import reschedule_organization

from ..checkpoint import SESSION_AID, can_edit_organization, member_view


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(label="Email", max_length=254, widget=forms.EmailInput(attrs={"autofocus": True}))

    error_messages = {
        "invalid_login": "That email and password do not match an account.",
        "inactive": "This account is disabled.",
        "too_many": "Too many failed sign-ins; try again later.",
    }

    def clean(self):
        # Counted per account and address+account (accounts/failed_logins.py), with the API's failed logins.
        email = (self.cleaned_data.get("username") or "").strip().lower()
        if not email or self.cleaned_data.get("password") is None:
            return super().clean()  # the fields' own errors; no password is checked
        self.cleaned_data["username"] = email
        attempt = failed_logins.Attempt(self.request, email)
        if not attempt.may_check():
            raise forms.ValidationError(self.error_messages["too_many"], code="too_many")
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            if attempt.failed_too_often():
                raise forms.ValidationError(self.error_messages["too_many"], code="too_many") from None
            raise
        attempt.succeeded()
        return cleaned


class SignInView(auth_views.LoginView):
    template_name = "web/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True


class SignOutView(auth_views.LogoutView):
    pass


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "web/password_change.html"
    success_url = reverse_lazy("web:profile")

    def form_valid(self, form):
        messages.success(self.request, "Your password was changed.")
        return super().form_valid(form)


@member_view
def profile(request):
    new_token = None
    if request.method == "POST":
        new_token = ApiToken.issue(request.user)
    memberships = (
        Membership.objects.filter(user=request.user)
        .select_related("account_group__organization", "role")
        .order_by("account_group__name")
    )
    return render(
        request,
        "web/profile.html",
        {
            "memberships": memberships,
            "has_token": new_token is not None or ApiToken.objects.filter(user=request.user).exists(),
            "token_date": ApiToken.objects.filter(user=request.user).values_list("created_date", flat=True).first(),
            "new_token": new_token,
        },
    )


@member_view
def organization_settings(request):
    """The organization's settings: its time zone (scheduled reports run at times of day in it). Account Admins
    change it; everyone else reads it. Changing it moves every schedule's next run into the new zone."""
    access = request.access
    organization = access.account_group.organization
    may_edit = can_edit_organization(access)
    error, status, chosen = "", 200, organization.time_zone
    if request.method == "POST":
        if not may_edit:
            raise Http404
        chosen = request.POST.get("time_zone", "")[:100]
        try:
            with transaction.atomic():
                set_time_zone(organization, chosen)
                reschedule_organization(organization.id)
        except UserInputError as exc:
            error, status = f"Time zone: {exc}.", 400
        else:
            messages.success(request, f"The organization's time zone is now {organization.time_zone}.")
            return redirect("web:organization")
    context = {
        "organization": organization,
        "may_edit": may_edit,
        "zones": time_zone_names(),
        "chosen": chosen,
        "error": error,
    }
    return render(request, "web/organization.html", context, status=status)


@require_POST
@member_view
def switch_account_group(request):
    raw = request.POST.get("aid", "")
    if not is_digits(raw) or len(raw) > 18 or access_for(request.user, int(raw)) is None:
        raise Http404("Not a member of this account group")
    request.session[SESSION_AID] = int(raw)
    target = request.POST.get("next") or "/tests/"
    # Test pages belong to one group: land on the new group's test list rather than a 404.
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}) or target.startswith("/tests/"):
        target = "/tests/"
    return redirect(target)


def home(request):
    return redirect("web:tests")
