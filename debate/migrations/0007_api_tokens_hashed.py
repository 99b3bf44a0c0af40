"""API tokens move from DRF's authtoken table (plain text, no expiry) to django-rest-knox (a digest, an expiry).

Each existing token is kept working: its digest is stored as knox would compute it (SHA-512 of the token's
text, looked up by its first 15 characters), with an expiry counted from now. Then the plain-text table is
dropped, so that no token is left stored in the clear. A database that never had the table skips both steps.
"""

import hashlib
from datetime import timedelta

from django.conf import settings
from django.db import migrations
from django.utils import timezone

OLD_TABLE = "authtoken_token"
TOKEN_KEY_LENGTH = 15  # knox.settings.CONSTANTS.TOKEN_KEY_LENGTH


def hash_plain_tokens(apps, schema_editor):
    connection = schema_editor.connection
    if OLD_TABLE not in connection.introspection.table_names():
        return
    AuthToken = apps.get_model("knox", "AuthToken")
    ttl = getattr(settings, "REST_KNOX", {}).get("TOKEN_TTL", timedelta(days=30))
    expiry = timezone.now() + ttl
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT key, user_id FROM {OLD_TABLE}")
        rows = cursor.fetchall()
    AuthToken.objects.bulk_create(
        [
            AuthToken(
                digest=hashlib.sha512(key.encode()).hexdigest(),
                token_key=key[:TOKEN_KEY_LENGTH],
                user_id=user_id,
                expiry=expiry,
            )
            for key, user_id in rows
        ],
        ignore_conflicts=True,
    )
    schema_editor.execute(f"DROP TABLE {OLD_TABLE}")


class Migration(migrations.Migration):
    dependencies = [
        ("debate", "0006_replylink_content_basis"),
        ("knox", "0009_extend_authtoken_field"),
    ]

    # Not reversible: the plain tokens cannot be recovered from their digests.
    operations = [migrations.RunPython(hash_plain_tokens, migrations.RunPython.noop, elidable=True)]
