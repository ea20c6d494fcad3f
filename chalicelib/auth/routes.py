"""/auth: registration, sign-in, tokens, sessions, two-factor, email links."""

from uuid import UUID

from chalicelib.api.context import RequestContext
from chalicelib.api.routing import ApiBlueprint
from chalicelib.auth import email_links, service, session_lifecycle, twofactor
from chalicelib.auth.models import (
    AcceptedOut,
    AuthOut,
    CodeIn,
    EmailVerifiedOut,
    LoginIn,
    PasswordResetConfirmIn,
    PasswordResetRequestIn,
    RefreshIn,
    RegisterIn,
    SessionList,
    TokenIn,
    TokenPairOut,
    TotpSetupOut,
    TwoFactorOut,
)

routes = ApiBlueprint(__name__, tag="auth")


@routes.route(
    "/auth/register", method="POST", body=RegisterIn, response=AuthOut, status=201, auth=False, errors_=(409, 429)
)
def register(ctx: RequestContext, body: RegisterIn):
    """Create an account and sign it in."""
    return service.register(actor=ctx.actor, data=body)


@routes.route("/auth/login", method="POST", body=LoginIn, response=AuthOut, auth=False, errors_=(401, 429))
def login(ctx: RequestContext, body: LoginIn):
    """Sign in with email, password and, when 2FA is on, a TOTP or recovery code."""
    return service.login(actor=ctx.actor, data=body)


@routes.route("/auth/refresh", method="POST", body=RefreshIn, response=TokenPairOut, auth=False, errors_=(401,))
def refresh(ctx: RequestContext, body: RefreshIn):
    """Spend a refresh token for a new access/refresh pair."""
    return session_lifecycle.refresh(actor=ctx.actor, refresh_token=body.refresh_token)


@routes.route("/auth/logout", method="POST", status=204)
def logout(ctx: RequestContext):
    """Sign out the calling session."""
    session_lifecycle.logout(actor=ctx.actor)


@routes.route("/auth/logout-all", method="POST", status=204)
def logout_all(ctx: RequestContext):
    """Sign out every session of the caller."""
    session_lifecycle.logout_all(actor=ctx.actor)


@routes.route("/auth/sessions", response=SessionList)
def list_sessions(ctx: RequestContext):
    """The caller's live sessions; the calling one is marked current."""
    return session_lifecycle.list_sessions(actor=ctx.actor)


@routes.route("/auth/sessions/{session_id}", method="DELETE", status=204, errors_=(404,))
def delete_session(ctx: RequestContext, session_id: UUID):
    """Sign out one of the caller's sessions."""
    session_lifecycle.revoke_session(actor=ctx.actor, session_id=session_id)


# The next two answers carry secrets shown once (the TOTP secret, the recovery codes); an
# Idempotency-Key replay copy is stored encrypted, as every stored reply is.
@routes.route("/auth/2fa/setup", method="POST", response=TotpSetupOut, errors_=(401, 409, 429))
def two_factor_setup(ctx: RequestContext):
    """Start two-factor authentication: a new TOTP secret."""
    return twofactor.setup(actor=ctx.actor)


@routes.route("/auth/2fa/enable", method="POST", body=CodeIn, response=TwoFactorOut, errors_=(401, 409, 429))
def two_factor_enable(ctx: RequestContext, body: CodeIn):
    """Turn 2FA on with a code from the new secret; answers the recovery codes once."""
    return twofactor.enable(actor=ctx.actor, code=body.code)


@routes.route("/auth/2fa/disable", method="POST", body=CodeIn, response=TwoFactorOut, errors_=(409,))
def two_factor_disable(ctx: RequestContext, body: CodeIn):
    """Turn 2FA off with a TOTP or recovery code."""
    return twofactor.disable(actor=ctx.actor, code=body.code)


@routes.route("/auth/verify-email", method="POST", body=TokenIn, response=EmailVerifiedOut, auth=False)
def verify_email(ctx: RequestContext, body: TokenIn):
    """Confirm the email address with the token from the verification link."""
    return email_links.verify_email(actor=ctx.actor, token=body.token)


@routes.route(
    "/auth/password-reset/request",
    method="POST",
    body=PasswordResetRequestIn,
    response=AcceptedOut,
    status=202,
    auth=False,
    errors_=(429,),
)
def password_reset_request(ctx: RequestContext, body: PasswordResetRequestIn):
    """Email a reset link if an account uses this address (always 202)."""
    return email_links.request_password_reset(actor=ctx.actor, email=body.email)


@routes.route("/auth/password-reset/confirm", method="POST", body=PasswordResetConfirmIn, status=204, auth=False)
def password_reset_confirm(ctx: RequestContext, body: PasswordResetConfirmIn):
    """Set a new password with the token from the reset link; every session is signed out."""
    email_links.confirm_password_reset(actor=ctx.actor, token=body.token, new_password=body.new_password)
