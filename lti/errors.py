"""Why a login or launch was refused: one class per reason, each with the HTTP status of its page."""

from __future__ import annotations


class LaunchRefused(Exception):
    """A refusal shown to the person in the LMS as a page with a title and a reason."""

    status = 400
    title = "This launch could not be accepted"

    def __init__(self, reason: str, *, new_window_url: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.new_window_url = new_window_url


class InvalidLaunchRequest(LaunchRefused):
    status = 400
    title = "The LMS sent an incomplete or malformed request"


class UnknownPlatform(LaunchRefused):
    """pylti1p3 raises a plain Exception or returns nothing for an unknown issuer; we raise this."""

    status = 403
    title = "This LMS is not registered with the service"


class InvalidIdToken(LaunchRefused):
    status = 401
    title = "The launch could not be verified"


class ReplayedLaunch(InvalidIdToken):
    title = "This launch was already used"


class UnknownDeployment(LaunchRefused):
    status = 403
    title = "This deployment of the tool is not registered"


class CookiesBlocked(LaunchRefused):
    status = 400
    title = "Your browser blocked the cookie this launch needs"


class StorageMismatch(InvalidIdToken):
    """The state read back from the LMS's platform storage is not the one our login stored."""

    title = "This launch could not be matched to your browser"
