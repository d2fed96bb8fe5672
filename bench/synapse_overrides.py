#!/usr/bin/env python3
"""Print the benchmark's overrides of a generated Synapse config (JSON, which is YAML).

usage: synapse_overrides.py DIR PORT BCRYPT_ROUNDS

Client API only, on loopback plain HTTP; SQLite in DIR; logs at WARNING to a file (Hearth
runs at `warn` too); open registration without verification; every rate limit lifted;
presence and URL previews off (Hearth has neither yet, and they add load unrelated to the
workloads).
"""
import json
import os
import sys

d, port, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

log_config = os.path.join(d, "log.yaml")
with open(log_config, "w") as f:
    f.write(
        "version: 1\n"
        "formatters: {precise: {format: '%(asctime)s %(name)s %(levelname)s %(message)s'}}\n"
        f"handlers: {{file: {{class: logging.FileHandler, formatter: precise, filename: {d}/homeserver.log}}}}\n"
        "root: {level: WARNING, handlers: [file]}\n"
        "disable_existing_loggers: false\n"
    )

lifted = {"per_second": 1000000, "burst_count": 1000000}
config = {
    "listeners": [{
        "port": port, "bind_addresses": ["127.0.0.1"], "type": "http", "tls": False,
        "x_forwarded": False, "resources": [{"names": ["client"], "compress": False}],
    }],
    "database": {"name": "sqlite3", "args": {"database": os.path.join(d, "homeserver.db")}},
    "log_config": log_config,
    "pid_file": os.path.join(d, "homeserver.pid"),
    "report_stats": False,
    "enable_registration": True,
    "enable_registration_without_verification": True,
    "registration_shared_secret": "hearth-bench-shared-secret",
    "bcrypt_rounds": rounds,
    "url_preview_enabled": False,
    "presence": {"enabled": False},
    "trusted_key_servers": [],
    "suppress_key_server_warning": True,
    "rc_message": lifted,
    "rc_registration": lifted,
    "rc_registration_token_validity": lifted,
    "rc_login": {"address": lifted, "account": lifted, "failed_attempts": lifted},
    "rc_joins": {"local": lifted, "remote": lifted},
    "rc_joins_per_room": lifted,
    "rc_invites": {"per_room": lifted, "per_user": lifted, "per_issuer": lifted},
    "rc_3pid_validation": lifted,
    "rc_admin_redaction": lifted,
    "rc_room_creation": lifted,
    "rc_presence": {"per_user": lifted},
    "rc_delayed_event_mgmt": lifted,
    "rc_media_create": lifted,
    "rc_reports": lifted,
    "rc_profile": lifted,
    "rc_key_requests": lifted,
    "rc_third_party_invite": lifted,
    "rc_user_directory": lifted,
}
print(json.dumps(config, indent=1))
