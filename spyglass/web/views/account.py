"""Sign in, sign out, password change, the account-group switcher and the profile page (API token, roles)."""

from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from spyglass.accounts import failed_logins
from spyglass.accounts.models import ApiToken, Membership
from spyglass.accounts.roles import access_for
from spyglass.lib.text import is_digits

from ..checkpoint import SESSION_AID, member_view


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
