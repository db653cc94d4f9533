"""Every change to the studio's data goes through one of these ``do_<verb>_<noun>`` functions:
each checks the actor's role, writes the audit log entry and returns. Views, tasks, the MQTT
bridge and management commands call them; nothing else writes."""

from .bundles import do_compile_version, studio_signing_key
from .catalog import (
    do_deprecate_version,
    do_finish_certification,
    do_install_from_catalog,
    do_publish_version,
    do_record_certification_step,
    do_start_certification,
    do_upgrade_from_catalog,
    version_diff,
)
from .context import Actor, require
from .errors import ActionError, Conflict, Forbidden, Invalid, NotFound
from .fleet import (
    do_acknowledge_alert,
    do_delete_device,
    do_record_alert,
    do_record_device_status,
    do_record_device_statuses,
    do_register_device,
    do_rotate_device_token,
    do_update_device,
)
from .library import (
    do_create_blueprint,
    do_create_version,
    do_delete_blueprint,
    do_fork_blueprint,
    do_install_package,
    do_store_artifact,
    do_submit_version,
    do_update_blueprint,
    do_update_version,
)
from .queue import do_queue_task
from .tenancy import (
    do_add_member,
    do_change_member_role,
    do_create_api_token,
    do_create_platform_admin,
    do_create_tenant,
    do_remove_member,
    do_revoke_api_token,
)

__all__ = [
    "ActionError",
    "Actor",
    "Conflict",
    "Forbidden",
    "Invalid",
    "NotFound",
    "do_acknowledge_alert",
    "do_add_member",
    "do_change_member_role",
    "do_compile_version",
    "do_create_api_token",
    "do_create_blueprint",
    "do_create_platform_admin",
    "do_create_tenant",
    "do_create_version",
    "do_delete_blueprint",
    "do_delete_device",
    "do_deprecate_version",
    "do_finish_certification",
    "do_fork_blueprint",
    "do_install_from_catalog",
    "do_install_package",
    "do_publish_version",
    "do_queue_task",
    "do_record_alert",
    "do_record_certification_step",
    "do_record_device_status",
    "do_record_device_statuses",
    "do_register_device",
    "do_remove_member",
    "do_revoke_api_token",
    "do_rotate_device_token",
    "do_start_certification",
    "do_store_artifact",
    "do_submit_version",
    "do_update_blueprint",
    "do_update_device",
    "do_update_version",
    "do_upgrade_from_catalog",
    "require",
    "studio_signing_key",
    "version_diff",
]
