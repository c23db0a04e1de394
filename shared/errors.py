"""The desk's one error hierarchy. `shared.entrypoints.http` maps it to HTTP, and nothing else does.

    DeskError                      500 internal          base; never raised itself
    ├── RequestError               400 bad_request       the caller sent something we refuse
    │   ├── SignatureError         401 invalid_signature x-line-signature missing or wrong
    │   ├── MalformedPayload       400 malformed_payload body is not a LINE webhook payload
    │   ├── PayloadTooLarge        413 payload_too_large body over the size LINE ever sends
    │   ├── UnsupportedMediaType   415 unsupported_media_type body is not declared JSON
    │   ├── ValidationError *      400 invalid_request   a field is wrong (admin API)
    │   └── JsonRequired *         415 unsupported_media_type an admin body not declared JSON
    ├── AuthorizationError *       403 forbidden          authenticated, but not allowed
    ├── NotFoundError *            404 not_found
    ├── ConflictError *            409 conflict
    │   ├── AlreadyExists          409 conflict          create of an id that is there
    │   ├── PreconditionFailed     409 conflict          ETag no longer matches (lost race)
    │   └── OverLimit              409 conflict          an expert holds DESK_EXPERT_MAX_OPEN
    ├── ConfigurationError         500 configuration     a setting is missing or refused
    └── DependencyError            503 unavailable       Cosmos DB or LINE failed; retry later
        ├── StoreUnavailable       503                   the store did not answer or throttled
        ├── AlertUnavailable       503                   the alert webhook did not take an alert
        └── LineApiError           503                   LINE refused or did not answer
            ├── MonthlyLimitReached 503                  429: the monthly push limit is reached
            └── ReplyTokenRejected 503                   the reply token is used or expired

    * a StaffError (mixin): Japanese message from the staff catalogue, with `field`

Messages never carry personal data (message text, display names, raw LINE user ids): they end
up in HTTP answers. The admin API's 4xx errors (`StaffError`: ValidationError, AuthorizationError,
NotFoundError, ConflictError and its kinds) are read by staff: they take a key of the staff
catalogue (shared/texts/staff_ja.json) and its parameters, never free text, and name the field
they are about (`field`, also in the error JSON). The webhook's refusals stay English, and 5xx
answers stay generic.
"""

from __future__ import annotations

from shared.texts.staff import StaffKey, staff_message


class DeskError(Exception):
    """Base of every error the desk raises on purpose."""

    status = 500
    code = "internal"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class RequestError(DeskError):
    """The caller sent something the desk refuses."""

    status = 400
    code = "bad_request"


class SignatureError(RequestError):
    """The webhook's x-line-signature is missing or does not match the body."""

    status = 401
    code = "invalid_signature"


class MalformedPayload(RequestError):
    """The body is signed correctly but is not a LINE webhook payload."""

    code = "malformed_payload"


class PayloadTooLarge(RequestError):
    """The body is larger than any LINE webhook payload."""

    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(RequestError):
    """The body is not declared as JSON."""

    status = 415
    code = "unsupported_media_type"


class StaffError(DeskError):
    """An error staff read in the admin API's answer: a catalogue key, its parameters and the
    field it is about (the field's API name, e.g. `limit`; None when it is about no field).

    `ValidationError("limit", "whole_number_range", low=1, high=200)` reads
    `limit：1〜200の整数で指定してください。`. Logs name the class, key and field only
    (`describe`), never the parameters.
    """

    def __init__(self, field: str | None, key: StaffKey, /, **params: object) -> None:
        super().__init__(staff_message(field, key, params))
        self.field = field
        self.key = key
        self.params = params


class ValidationError(StaffError, RequestError):
    """A request field is missing or has a wrong value."""

    code = "invalid_request"


class JsonRequired(StaffError, RequestError):
    """An admin API request whose body is not declared `application/json`."""

    status = 415
    code = "unsupported_media_type"


class AuthorizationError(StaffError):
    """The caller is known but may not do this."""

    status = 403
    code = "forbidden"


class NotFoundError(StaffError):
    """The named thing does not exist."""

    status = 404
    code = "not_found"


class ConflictError(StaffError):
    """The request conflicts with the current state."""

    status = 409
    code = "conflict"


class AlreadyExists(ConflictError):
    """A create named an id that is already stored."""


class PreconditionFailed(ConflictError):
    """An optimistic-concurrency write lost: the stored ETag changed."""


class OverLimit(ConflictError):
    """An expert already holds as many open sessions as DESK_EXPERT_MAX_OPEN allows."""

    @property
    def held(self) -> int:
        return int(str(self.params["held"]))

    @property
    def limit(self) -> int:
        return int(str(self.params["limit"]))


class ConfigurationError(DeskError):
    """A setting is missing, malformed or refused in this environment.

    `settings` names each bad setting (never its value), for the health check's answer.
    """

    code = "configuration"

    def __init__(self, message: str, *, settings: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.settings = settings


class DependencyError(DeskError):
    """A service the desk depends on failed; the operation may succeed if retried."""

    status = 503
    code = "unavailable"


class StoreUnavailable(DependencyError):
    """The store throttled, timed out or could not be reached."""


class AlertUnavailable(DependencyError):
    """The supervisors' alert webhook refused or did not answer (the alert stays pending)."""


class LineApiError(DependencyError):
    """The LINE Messaging API refused a call or did not answer.

    `http_status` is None when no answer came (connection failure, timeout). Such failures,
    429 and 5xx may succeed later; any other 4xx will fail the same way however often it is
    retried (a revoked token, a refused message).
    """

    def __init__(
        self, message: str, *, http_status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        """Whether trying again later may succeed."""
        status = self.http_status
        return status is None or status == 429 or status >= 500


class MonthlyLimitReached(LineApiError):
    """LINE refused a push: the channel's monthly message limit is reached (429 "You have
    reached your monthly limit."). Retrying before the next month (or a plan change) fails the
    same way."""

    @property
    def retryable(self) -> bool:
        """Never: the quota does not come back within a retry's wait."""
        return False


class ReplyTokenRejected(LineApiError):
    """LINE refused the reply token (used, expired or unknown): fall back to a push."""
