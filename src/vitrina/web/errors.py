"""Error codes of the back office's accounts (one exception type per stable code)."""

from __future__ import annotations

from vitrina.core.errors import ConflictError, ForbiddenError, NotFoundError, RateLimited, Unauthorized


class InvalidSignIn(Unauthorized):
    code = "INVALID_SIGN_IN"
    default_message = "The email or password is wrong."


class SignInRequired(Unauthorized):
    """No valid session: pages answer with a redirect to the sign-in form."""

    code = "SIGN_IN_REQUIRED"
    default_message = "Please sign in."


class CsrfFailed(ForbiddenError):
    code = "CSRF_FAILED"
    default_message = "The form expired or did not come from this site; reload the page and try again."


class RoleForbidden(ForbiddenError):
    code = "ROLE_FORBIDDEN"
    default_message = "Your role does not allow this."


class SignInThrottled(RateLimited):
    code = "SIGN_IN_THROTTLED"
    default_message = "Too many failed sign-in attempts; wait a few minutes and try again."


class UserExists(ConflictError):
    code = "USER_EXISTS"
    default_message = "A user with this email already exists."


class UserNotFound(NotFoundError):
    code = "USER_NOT_FOUND"
    default_message = "No such user."


class SectionUnavailable(NotFoundError):
    """A back-office section whose domain is not installed (or not finished) in this build."""

    code = "SECTION_UNAVAILABLE"
    default_message = "This part of the back office is not available in this installation."
