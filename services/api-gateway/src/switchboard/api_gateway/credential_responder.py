"""Answers other services' "whose credential is this?" over the bus, so the gateway stays the one key authority.

The tool-broker authenticates connectors with the same API keys and JWTs as ``/v1/*`` without reading the
gateway's tables: it asks here (``VerifyCredential`` → ``CredentialVerified``).
"""

from __future__ import annotations

import logging

from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from pydantic import ValidationError

from switchboard.api_gateway.auth import Authenticator
from switchboard.api_gateway.principal import Principal
from switchboard.common.errors import SwitchboardError
from switchboard.common.subjects import GATEWAY_QUEUE, Subjects
from switchboard.common.tool_events import CredentialVerified, VerifyCredential

__all__ = ["CredentialResponder"]

logger = logging.getLogger(__name__)


class CredentialResponder:
    def __init__(self, nc: NatsClient, subjects: Subjects, auth: Authenticator) -> None:
        self._nc = nc
        self._subjects = subjects
        self._auth = auth

    async def start(self) -> None:
        await self._nc.subscribe(self._subjects.verify_credential, queue=GATEWAY_QUEUE, cb=self._answer)

    async def _answer(self, msg: Msg) -> None:
        if not msg.reply:
            return
        verdict = await self.verify(msg.data)
        await msg.respond(verdict.model_dump_json().encode())

    async def verify(self, payload: bytes) -> CredentialVerified:
        try:
            query = VerifyCredential.model_validate_json(payload)
        except ValidationError:
            logger.warning("ignored a malformed VerifyCredential request")
            return CredentialVerified(valid=False, reason="malformed verification request")
        try:
            if query.jwt:
                principal = await self._auth.principal_for_jwt(query.jwt)
            elif query.api_key_sha256:
                principal = await self._auth.principal_for_digest(query.api_key_sha256)
            else:
                return CredentialVerified(valid=False, reason="x-api-key header is required")
        except SwitchboardError as exc:
            return CredentialVerified(valid=False, reason=exc.message)
        except Exception:  # the asker must get an answer, not a timeout
            logger.exception("credential verification failed")
            return CredentialVerified(valid=False, reason="the credential could not be verified; try again")
        return _verified(principal)


def _verified(principal: Principal) -> CredentialVerified:
    return CredentialVerified(
        valid=True,
        user_id=principal.user_id,
        key_id=principal.key_id,
        scopes=sorted(principal.scopes),
        is_admin=principal.is_admin,
    )
