"""What the sharing services refuse, with the HTTP status both front doors (API and web) answer with."""


class SharingError(Exception):
    status = 400

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self):
        return f"{self.field}: {self.message}" if self.field else self.message


class Forbidden(SharingError):
    status = 403


class NotFound(SharingError):
    status = 404

    def __init__(self, message: str = "Not found"):
        super().__init__(message)


class RateLimited(SharingError):
    status = 429

    def __init__(self, message: str, retry_after: float):
        super().__init__(message)
        self.retry_after = max(int(retry_after), 1)
