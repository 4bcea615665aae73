"""The webhooks' public interface: views, the CLI, the API and the tests import these verbs from here."""

from __future__ import annotations

from lms.webhooks.delivery import deliver, signed_headers
from lms.webhooks.endpoints import (
    create_endpoint,
    delete_endpoint,
    deliveries_of,
    get_delivery,
    get_endpoint,
    list_endpoints,
    new_secret,
    rotate_secret,
    set_enabled,
)
from lms.webhooks.models import EVENT_TYPES
from lms.webhooks.outbox import DELIVER_JOB, redeliver
from lms.webhooks.safety import check_target

__all__ = [
    "DELIVER_JOB",
    "EVENT_TYPES",
    "check_target",
    "create_endpoint",
    "delete_endpoint",
    "deliver",
    "deliveries_of",
    "get_delivery",
    "get_endpoint",
    "list_endpoints",
    "new_secret",
    "redeliver",
    "rotate_secret",
    "set_enabled",
    "signed_headers",
]
