from vitrina.core.errors import NotFoundError, Unauthorized


class InvalidCredentials(Unauthorized):
    code = "INVALID_CREDENTIALS"
    default_message = "The API key or secret is wrong, or the key was revoked."


class ApiKeyNotFound(NotFoundError):
    code = "API_KEY_NOT_FOUND"
    default_message = "No such API key."
