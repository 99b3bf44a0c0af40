"""Receivers the corpus app connects when it starts (CorpusConfig.ready)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser

from debate.actions import revoke_api_tokens


def revoke_tokens_on_password_change(sender: type[AbstractBaseUser], instance: AbstractBaseUser, **kwargs: Any) -> None:
    """A new password ends every API token of the user, as it ends their other sessions: whoever knew the
    old password may have taken a token with it. (pre_save: a saved new password and the revocation share
    the caller's transaction.) Saves that name their fields and leave the password out cost nothing."""
    update_fields = kwargs.get("update_fields")
    if instance.pk is None or (update_fields is not None and "password" not in update_fields):
        return
    stored = get_user_model().objects.filter(pk=instance.pk).values_list("password", flat=True).first()
    if stored is not None and stored != instance.password:
        revoke_api_tokens(user=instance)
